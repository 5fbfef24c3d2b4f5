// The index's files: opening the LevelDB at index-v1/, building a new one aside and publishing it
// by rename (SPEC.md §Index, building), and the in-memory stand-in for stores that refuse writes.

import { isAccessible } from '../fs/exists.js';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { errnoCode } from '../core/errors.js';
import type { StoreLayout } from './layout.js';
import type { AbstractLevel } from 'abstract-level';
import { BROKEN_SUFFIX } from './index-health.js';
import { crashpoint } from '../core/crashpoint.js';

export const BUILD_SUFFIX = '.build-';

/** An open index: LevelDB on disk, or the in-memory stand-in. */
export type IndexDb = AbstractLevel<string | Buffer | Uint8Array, string, unknown>;

// Loaded on first use: commands that never touch the index (status, generations) start faster.
let levelModule: Promise<typeof import('level')> | undefined;

export async function hasCurrent(layout: StoreLayout): Promise<boolean> {
  return isAccessible(`${layout.index}/CURRENT`);
}

export async function openIndexFiles(layout: StoreLayout): Promise<IndexDb> {
  const { Level } = await (levelModule ??= import('level'));
  // Constructed only now: a Level handle opens itself on the next tick (abstract-level's deferred
  // open), and must never create an empty index-v1 before a rebuild lands.
  const db = new Level<string, unknown>(layout.index, {
    valueEncoding: 'json',
    createIfMissing: false,
  });
  try {
    await db.open({ createIfMissing: false });
    return db;
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }
}

/** An index in memory, filled from the manifests: same API, nothing written (memory-level). */
export async function memoryIndex(fill: (db: IndexDb) => Promise<void>): Promise<IndexDb> {
  const { MemoryLevel } = await import('memory-level');
  const db = new MemoryLevel<string, unknown>({ valueEncoding: 'json' });
  await db.open();
  await fill(db);
  return db;
}

/**
 * No process ever opens a half-made index: a new one is created and filled (rebuilt from the
 * manifests) under a name of its own, then renamed to index-v1. A crash mid-rebuild leaves only a
 * stray build directory, and the next command builds again; a failure removes it at once.
 */
export async function buildIndexAside(
  layout: StoreLayout,
  fill: (db: IndexDb) => Promise<void>,
): Promise<void> {
  const { Level } = await (levelModule ??= import('level'));
  const build = `${layout.index}${BUILD_SUFFIX}${process.pid}-${randomBytes(4).toString('hex')}`;
  await fsp.mkdir(layout.root, { recursive: true });
  try {
    const db = new Level<string, unknown>(build, { valueEncoding: 'json' });
    await db.open();
    try {
      await fill(db);
    } finally {
      await db.close();
    }
    crashpoint('index:before-publish');
    await publish(layout, build);
  } catch (err) {
    await fsp.rm(build, { recursive: true, force: true }).catch(() => {});
    throw err;
  }
}

async function publish(layout: StoreLayout, build: string): Promise<void> {
  for (;;) {
    try {
      await fsp.rename(build, layout.index);
      return;
    } catch (err) {
      const code = errnoCode(err);
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    }
    if (await hasCurrent(layout)) {
      await fsp.rm(build, { recursive: true, force: true }); // another process finished first
      return;
    }
    // An index directory without CURRENT never became an index: set it aside and retry.
    await fsp
      .rename(layout.index, `${layout.index}${BROKEN_SUFFIX}${randomBytes(4).toString('hex')}`)
      .catch(() => {});
  }
}
