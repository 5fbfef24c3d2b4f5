// The metadata index in LevelDB (SPEC.md §Index). LevelDB lets one process at a time open a
// database, and pstore runs many at once, so the index is opened for short sessions: open, read or
// write one batch, close, retrying with jittered backoff while another process has it open. Within
// one process concurrent callers share a single open handle. The index is a cache of the manifest
// files in entries-v1/: if it is lost, it is rebuilt from them.

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
  const { Level: LevelCtor } = await (levelModule ??= import('level'));
  let shared = open.get(layout.index);
  if (!shared) {
    const db: IndexDb = new LevelCtor<string, unknown>(layout.index, { valueEncoding: 'json' });
    shared = { db, users: 0, ready: openWithRetry(layout, db, opts) };
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

async function openWithRetry(layout: StoreLayout, db: IndexDb, opts: IndexSessionOptions): Promise<void> {
  const deadline = Date.now() + opts.waitMs;
  let delay = 1;
  for (;;) {
    const fresh = !(await exists(`${layout.index}/CURRENT`));
    try {
      await db.open();
      if (fresh && opts.onCreate) await opts.onCreate(db);
      return;
    } catch (err) {
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
