// What a reader reports of a prefix's transaction (SPEC.md §Locks, readers), shared by the
// readers (readers.ts) and the recovery they attempt (recover-found.ts, loaded only then).

import type { StoreContext } from '../store/context.js';

/**
 * `none`: no transaction is pending; `running`: one is under way (its writer holds the lock);
 * `interrupted`: a journal is left and nobody holds the lock (recovery was not possible).
 */
export type TransactionState = 'none' | 'running' | 'interrupted';

/** The state of a prefix's transaction, as a reader saw it. */
export interface TransactionView {
  /** whether a transaction is pending, and how */
  transaction: TransactionState;
  /** interrupted only: why this reader did not (or could not) recover it */
  interruptedReason?: string;
}

/**
 * What a reader takes of its caller's store: how long to wait and whom to tell. Recovery works in
 * the store named by the prefix's record (whatever store the caller opened), made only then.
 */
export type ReaderContext = Pick<StoreContext, 'waitMs' | 'onWait'>;

export const NONE: TransactionView = { transaction: 'none' };
export const RUNNING: TransactionView = { transaction: 'running' };
export const interrupted = (reason: string): TransactionView => ({
  transaction: 'interrupted',
  interruptedReason: reason,
});
