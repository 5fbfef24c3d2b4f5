// A reader's recovery of a dead writer's journal (readers.ts, recoverOrReport), in a module of its
// own: loaded only when a journal is found with no writer alive, so that a reader that finds none
// (status) loads no store context, index, recovery code nor node:crypto. The bundled `status`
// imports the CLI's copy of this module (scripts/bundle-cli.mjs).

import { environmentError, isPstoreError, PstoreError } from '../core/errors.js';
import type { ManagedPrefix } from '../prefix/access.js';
import { createContext, lockStore } from '../store/context.js';
import { recoverPending } from './recover.js';
import { NONE, interrupted, type ReaderContext, type TransactionView } from './transaction-view.js';

/**
 * Recover a dead writer's journal in the prefix's own store: the caller holds the prefix lock;
 * the store lock is tried once (gc holding it means "interrupted", never a wait).
 */
export async function recoverFound(
  ctx: ReaderContext,
  found: ManagedPrefix,
): Promise<TransactionView> {
  const storeCtx = createContext({
    path: found.record.store,
    waitSeconds: ctx.waitMs / 1000,
    onWait: ctx.onWait ?? (() => {}),
  });
  const storeLock = await lockStore(storeCtx, 'shared', { waitMs: 0 }).catch((err: unknown) => {
    if (isPstoreError(err, 'EPSTORE_BUSY')) return undefined;
    throw err;
  });
  if (!storeLock)
    return interrupted(
      `not recovered: the store ${storeCtx.root} is locked (gc is running); the next writer recovers it`,
    );
  try {
    await recoverPending(storeCtx, found.paths);
    return NONE;
  } catch (err) {
    const typed = environmentError(err);
    if (!(typed instanceof PstoreError)) throw err;
    return interrupted(`recovery failed: ${typed.code}: ${typed.message}`);
  } finally {
    await storeLock.release();
  }
}
