// The metadata index in LevelDB (SPEC.md §Index). LevelDB lets one process at a time open a
// database, and pstore runs many at once, so the index is opened for short sessions: open, read or
// write one batch, close, retrying with jittered backoff while another process has it open. Within
// one process concurrent callers share a single open handle. The index is a cache of the manifest
// files in entries-v1/: if it is lost or broken, it is rebuilt from them; where the store may not
// be written (read-only, another user's, full), reading sessions use one built in memory instead.

import { PstoreError } from '../core/errors.js';
import type { StoreLayout } from './layout.js';
import {
  buildIndexAside,
  hasCurrent,
  memoryIndex,
  openIndexFiles,
  type IndexDb,
} from './index-files.js';
import {
  isIndexFailure,
  isLevelError,
  isLocked,
  isRefusal,
  probeWritable,
  setAside,
} from './index-health.js';

export type { IndexDb };

/**
 * 'read' sessions only read (or repair the cache): when the store may not be written they run on an
 * index built in memory. 'write' sessions record entries: there the refusal is the answer.
 */
export type IndexAccess = 'read' | 'write';

export interface IndexSessionOptions {
  waitMs: number;
  access: IndexAccess;
  /** fills a fresh index, on disk or in memory (rebuild from the manifests) */
  fill: (db: IndexDb) => Promise<void>;
}

interface Shared {
  /** the index on disk, or why it cannot be used here (an errno error by which the store refuses) */
  opened: Promise<{ db: IndexDb } | { refused: NodeJS.ErrnoException }>;
  users: number;
}

const open = new Map<string, Shared>();

export async function withIndex<T>(
  layout: StoreLayout,
  opts: IndexSessionOptions,
  fn: (db: IndexDb) => Promise<T>,
): Promise<T> {
  try {
    return await onDiskOrMemory(layout, opts, fn);
  } catch (err) {
    if (!isIndexFailure(err)) throw err;
    // The index failed mid-session: a refusal of the filesystem, or damage found while reading.
    const refused = await probeWritable(layout.root, layout.index);
    if (refused) return refuse(opts, refused, fn);
    if (open.has(layout.index)) throw err; // still in use by this process: leave it to the next command
    const movedRefused = await setAside(layout.index);
    if (movedRefused) return refuse(opts, movedRefused, fn);
    return onDiskOrMemory(layout, opts, fn);
  }
}

async function onDiskOrMemory<T>(
  layout: StoreLayout,
  opts: IndexSessionOptions,
  fn: (db: IndexDb) => Promise<T>,
): Promise<T> {
  const shared = acquire(layout, opts);
  try {
    const state = await shared.opened;
    if ('refused' in state) return await refuse(opts, state.refused, fn);
    return await fn(state.db);
  } finally {
    shared.users--;
    if (shared.users === 0) {
      open.delete(layout.index);
      const state = await shared.opened.catch(() => undefined);
      if (state && 'db' in state) await state.db.close();
    }
  }
}

/** A store that refuses writes: readers get a private index in memory, writers the refusal. */
async function refuse<T>(
  opts: IndexSessionOptions,
  refused: NodeJS.ErrnoException,
  fn: (db: IndexDb) => Promise<T>,
): Promise<T> {
  if (opts.access === 'write') throw refused;
  const db = await memoryIndex(opts.fill);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

function acquire(layout: StoreLayout, opts: IndexSessionOptions): Shared {
  let shared = open.get(layout.index);
  if (!shared) {
    shared = { opened: openWithRetry(layout, opts), users: 0 };
    open.set(layout.index, shared);
  }
  shared.users++;
  return shared;
}

async function openWithRetry(
  layout: StoreLayout,
  opts: IndexSessionOptions,
): Promise<{ db: IndexDb } | { refused: NodeJS.ErrnoException }> {
  // The index is held for milliseconds at a time, so even --wait 0 waits a little for it.
  const deadline = Date.now() + Math.max(opts.waitMs, MIN_INDEX_WAIT_MS);
  let delay = 1;
  let rebuilt = false;
  for (;;) {
    try {
      if (!(await hasCurrent(layout))) await buildIndexAside(layout, opts.fill);
      return { db: await openIndexFiles(layout) };
    } catch (err) {
      if (isRefusal(err)) return { refused: err as NodeJS.ErrnoException };
      if (!isLevelError(err)) throw err;
      if (!isLocked(err)) {
        // Not busy: the files cannot be used. Ask the filesystem why (index-health.ts).
        const refused = await probeWritable(layout.root, layout.index);
        if (refused) return { refused };
        if (rebuilt)
          throw new PstoreError(
            'EPSTORE_IO',
            `the index ${layout.index} cannot be opened even after a rebuild: ${(err as Error).message}`,
            { subject: layout.index, cause: err },
          );
        const movedRefused = await setAside(layout.index);
        if (movedRefused) return { refused: movedRefused };
        rebuilt = true;
        continue;
      }
    }
    if (Date.now() >= deadline) {
      throw new PstoreError('EPSTORE_BUSY', `the index ${layout.index} stayed busy`, {
        subject: layout.index,
      });
    }
    await sleep(delay * (0.5 + Math.random()));
    delay = Math.min(delay * 2, 50);
  }
}

const MIN_INDEX_WAIT_MS = 30_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
