// The one context object every store operation takes first (root-first, options-last).

import { hasCurrent } from './index-files.js';
import { refuseNonDirectory } from './root-check.js';
import { constants as fsc, promises as fsp } from 'node:fs';
import path from 'node:path';
import { DEFAULT_WAIT_SECONDS, resolveStoreRoot } from '../core/config.js';
import { withIndex, type IndexAccess, type IndexDb } from './index-db.js';
import { rebuildIndex, reconcileIndex } from './index-rebuild.js';
import { errnoCode, isPstoreError } from '../core/errors.js';
import { acquireLock, type HeldLock, type LockMode } from '../fs/lock.js';
import {
  ENTRIES_DIR,
  INDEX_DIR,
  LOCKS_DIR,
  OBJECTS_DIR,
  PREFIXES_DIR,
  storeLayout,
  type StoreLayout,
} from './layout.js';

/** Options of {@link openStore}; all optional. */
export interface StoreOptions {
  /** store directory; default from --store / $PSTORE_STORE / XDG (config.ts) */
  path?: string;
  /** how long to wait for a busy store or prefix, in seconds (default 600) */
  waitSeconds?: number;
  /** called when an operation has to wait for another process */
  onWait?: (what: string) => void;
}

export interface StoreContext {
  root: string;
  layout: StoreLayout;
  waitMs: number;
  onWait: ((what: string) => void) | undefined;
}

export function createContext(opts: StoreOptions = {}): StoreContext {
  const root = resolveStoreRoot(opts.path);
  return {
    root,
    layout: storeLayout(root),
    waitMs: (opts.waitSeconds ?? DEFAULT_WAIT_SECONDS) * 1000,
    onWait: opts.onWait,
  };
}

/**
 * The store lock: writers of objects and entries hold it shared, gc holds it exclusive, so gc never
 * deletes an object that an add in flight has found present and is about to reference (Nix's GC lock).
 */
export async function lockStore(
  ctx: StoreContext,
  mode: LockMode,
  opts: { waitMs?: number } = {},
): Promise<HeldLock> {
  await refuseNonDirectory(ctx);
  return acquireLock(storeLockFile(ctx), {
    mode,
    waitMs: opts.waitMs ?? ctx.waitMs,
    what: `store ${ctx.root}`,
    onWait: () =>
      ctx.onWait?.(
        `waiting for the store ${ctx.root} (${mode === 'exclusive' ? 'other pstore processes are writing' : 'gc is running'})`,
      ),
  });
}

/**
 * The store lock of a writer that records entries (add, import): refused before anything is read
 * when the store may not be written, held shared, and on a store's first write the index created
 * now, before the writer's manifest exists: otherwise the rebuild would read that manifest back and
 * register it twice (and hold it twice in memory).
 */
export async function lockForRecording(ctx: StoreContext): Promise<HeldLock> {
  await assertWritable(ctx);
  const lock = await lockStore(ctx, 'shared');
  try {
    if (!(await indexExists(ctx))) await useIndex(ctx, async () => undefined, RECORDING);
    return lock;
  } catch (err) {
    await lock.release();
    throw err;
  }
}

export function storeLockFile(ctx: StoreContext): string {
  return path.join(ctx.layout.locks, 'store.lock');
}

async function indexExists(ctx: StoreContext): Promise<boolean> {
  return hasCurrent(ctx.layout);
}

/**
 * Writers (add, import) and export (which stages in the store) are refused before they read or
 * hash anything when the store may not be written (a read-only mount, another user's store):
 * access(W_OK) on the store, or on its nearest existing parent when it does not exist yet, throws
 * EROFS/EACCES naming it. Checked up front also because Node's recursive mkdir reports EROFS as
 * ENOENT, which would hide the reason.
 */
export async function assertWritable(ctx: StoreContext): Promise<void> {
  await refuseNonDirectory(ctx);
  let dir = ctx.root;
  for (;;) {
    try {
      await fsp.access(dir, fsc.W_OK);
      return;
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT' || path.dirname(dir) === dir) throw err;
      dir = path.dirname(dir);
    }
  }
}

/**
 * Read-only commands must not create a store where there is none (a mistyped --store): a store is
 * a directory holding one of the store's own names (made by its first add or import, or by a
 * reader's lock), or an empty directory (made for one). Anything else (missing, a file, /tmp, a
 * source tree) is no store, and nothing is created in it; one this user may not list is left to
 * the command, which reports the permission.
 */
export async function storeExists(ctx: StoreContext): Promise<boolean> {
  let names: string[];
  try {
    names = await fsp.readdir(ctx.root);
  } catch (err) {
    return errnoCode(err) === 'EACCES';
  }
  return names.length === 0 || names.some((n) => STORE_NAMES.has(n));
}

/** The store's top-level names (lib/store/layout.ts): any one marks a store. */
const STORE_NAMES = new Set([OBJECTS_DIR, ENTRIES_DIR, INDEX_DIR, LOCKS_DIR, PREFIXES_DIR]);

export interface IndexUse {
  /** 'write' for sessions that record entries (add, import, gc's forget); default 'read' */
  access?: IndexAccess;
  /**
   * Compare the index with the manifest files and register what it lacks: 'always' first (ls,
   * verify), 'on-miss' only when `fn` answers "not found" (the default: a lookup that succeeds costs
   * nothing extra), or 'never' (sessions that only record).
   */
  reconcile?: 'always' | 'on-miss' | 'never';
}

/** Sessions that record entries: a store that refuses writes refuses them (no index in memory). */
export const RECORDING: IndexUse = { access: 'write', reconcile: 'never' };

export function useIndex<T>(
  ctx: StoreContext,
  fn: (db: IndexDb) => Promise<T>,
  use: IndexUse = {},
): Promise<T> {
  const reconcile = use.reconcile ?? 'on-miss';
  const session = {
    waitMs: ctx.waitMs,
    access: use.access ?? 'read',
    fill: (db: IndexDb) => rebuildIndex(ctx.layout, db).then(() => {}),
  };
  return withIndex(ctx.layout, session, async (db) => {
    if (reconcile === 'always') await reconcileIndex(ctx.layout, db);
    try {
      return await fn(db);
    } catch (err) {
      if (reconcile !== 'on-miss' || !isPstoreError(err, 'EPSTORE_NOT_FOUND')) throw err;
      if ((await reconcileIndex(ctx.layout, db)) === 0) throw err;
      return fn(db);
    }
  });
}
