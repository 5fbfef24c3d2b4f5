// The writer lock order for work on an existing prefix outside a transaction (recover, prune):
// the prefix's writer lock → the store lock (shared, so gc waits) → finish any interrupted
// transaction. runTransaction takes the same three steps in the same order (SPEC.md §Locks).

import type { PrefixPaths } from '../prefix/layout.js';
import { contextFor, findManagedPrefix } from '../prefix/access.js';
import { openPrefixForWrite } from '../prefix/open.js';
import { lockStore, type StoreContext } from '../store/context.js';
import { recoverPending, type RecoverResult } from './recover.js';

export interface PrefixWriter {
  /** the context of the store that manages the prefix (which may not be the caller's) */
  ctx: StoreContext;
  paths: PrefixPaths;
  /** what finishing an interrupted transaction did */
  recovered: RecoverResult;
}

/** Run `work` holding the prefix as its one writer, with the prefix in a committed state. */
export async function withPrefixWriter<T>(
  ctx: StoreContext,
  dir: string,
  work: (w: PrefixWriter) => Promise<T>,
): Promise<T> {
  const found = await findManagedPrefix(dir);
  const storeCtx = contextFor(ctx, found.record);
  const opened = await openPrefixForWrite(dir, {
    storeRoot: found.record.store,
    create: false,
    waitMs: ctx.waitMs,
  });
  try {
    await using _storeLock = await lockStore(storeCtx, 'shared');
    const recovered = await recoverPending(storeCtx, opened.paths);
    return await work({ ctx: storeCtx, paths: opened.paths, recovered });
  } finally {
    await opened.lock.release();
  }
}
