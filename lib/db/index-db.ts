// The metadata index in LevelDB (SPEC.md §Index). LevelDB lets one process at a time open a
// database, and pstore runs many at once, so the index is opened for short sessions: open, read or
// write one batch, close, retrying with jittered backoff while another process has it open. Within
// one process concurrent callers share a single open handle. The index is a cache of the manifest
// files in entries-v1/: if it is lost, it is rebuilt from them.

import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import type { Level } from 'level';
import { PstoreError, errnoCode } from '../errors.js';
import type { StoreLayout } from '../store/layout.js';

export type IndexDb = Level<string, unknown>;

interface Shared {
  db: IndexDb;
  users: number;
  ready: Promise<void>;
}

const open = new Map<string, Shared>();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface IndexSessionOptions {
  waitMs: number;
  /** called after a fresh index directory was created, to fill it (rebuild from manifests) */
  onCreate?: (db: IndexDb) => Promise<void>;
}

export async function withIndex<T>(layout: StoreLayout, opts: IndexSessionOptions, fn: (db: IndexDb) => Promise<T>): Promise<T> {
  const shared = await acquire(layout, opts);
  try {
    return await fn(shared.db);
  } finally {
    shared.users--;
    if (shared.users === 0) {
      open.delete(layout.index);
      await shared.db.close();
    }
  }
}

// Loaded on first use: commands that never touch the index (status, generations) start faster.
let levelModule: Promise<typeof import('level')> | undefined;

async function acquire(layout: StoreLayout, opts: IndexSessionOptions): Promise<Shared> {
  let shared = open.get(layout.index);
  if (!shared) {
    const s: Shared = { db: undefined as unknown as IndexDb, users: 0, ready: Promise.resolve() };
    s.ready = openWithRetry(layout, opts).then((db) => { s.db = db; });
    shared = s;
    open.set(layout.index, shared);
  }
  shared.users++;
  try {
    await shared.ready;
  } catch (err) {
    shared.users--;
    if (open.get(layout.index) === shared) open.delete(layout.index);
    throw err;
  }
  return shared;
}

async function openWithRetry(layout: StoreLayout, opts: IndexSessionOptions): Promise<IndexDb> {
  const { Level: LevelCtor } = await (levelModule ??= import('level'));
  // The index is held for milliseconds at a time, so even --wait 0 waits a little for it.
  const deadline = Date.now() + Math.max(opts.waitMs, MIN_INDEX_WAIT_MS);
  let delay = 1;
  for (;;) {
    if (!(await exists(`${layout.index}/CURRENT`))) await buildIndexAside(layout, opts);
    // Constructed only now: a Level handle opens itself on the next tick (abstract-level's
    // deferred open), and must never create an empty index-v1 before the rebuild lands.
    const db: IndexDb = new LevelCtor<string, unknown>(layout.index, { valueEncoding: 'json', createIfMissing: false });
    try {
      await db.open({ createIfMissing: false });
      return db;
    } catch (err) {
      await db.close().catch(() => {});
      if (!isLocked(err)) {
        throw new PstoreError('EPSTORE_INTERNAL', `cannot open the index ${layout.index}: ${(err as Error).message}`, { subject: layout.index, cause: err });
      }
    }
    if (Date.now() >= deadline) {
      throw new PstoreError('EPSTORE_BUSY', `the index ${layout.index} stayed busy (see --wait)`, { subject: layout.index });
    }
    await sleep(delay * (0.5 + Math.random()));
    delay = Math.min(delay * 2, 50);
  }
}

const MIN_INDEX_WAIT_MS = 30_000;

/**
 * No process ever opens a half-made index: a new one is created and filled (rebuilt from the
 * manifests) under a name of its own, then renamed to index-v1. A crash mid-rebuild leaves only a
 * stray build directory, and the next command builds again.
 */
async function buildIndexAside(layout: StoreLayout, opts: IndexSessionOptions): Promise<void> {
  const { Level: LevelCtor } = await (levelModule ??= import('level'));
  const build = `${layout.index}${BUILD_SUFFIX}${process.pid}-${randomBytes(4).toString('hex')}`;
  await fsp.mkdir(layout.root, { recursive: true });
  const db: IndexDb = new LevelCtor<string, unknown>(build, { valueEncoding: 'json' });
  await db.open();
  try {
    await opts.onCreate?.(db);
  } finally {
    await db.close();
  }
  for (;;) {
    try {
      await fsp.rename(build, layout.index);
      return;
    } catch (err) {
      const code = errnoCode(err);
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    }
    if (await exists(`${layout.index}/CURRENT`)) {
      await fsp.rm(build, { recursive: true, force: true }); // another process finished first
      return;
    }
    // An index directory without CURRENT never became an index: set it aside and retry.
    await fsp.rename(layout.index, `${layout.index}.broken-${randomBytes(4).toString('hex')}`).catch(() => {});
  }
}

export const BUILD_SUFFIX = '.build-';

function isLocked(err: unknown): boolean {
  const cause = (err as { cause?: unknown })?.cause;
  return errnoCode(cause) === 'LEVEL_LOCKED' || errnoCode(err) === 'LEVEL_LOCKED';
}

async function exists(p: string): Promise<boolean> {
  try {
    await fsp.access(p);
    return true;
  } catch {
    return false;
  }
}
