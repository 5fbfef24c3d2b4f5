// A prefix's status: its layout, current generation, active packages and whether a transaction is
// running or interrupted. Never waits, and reads a few small files whatever the prefix's size.

import type { LayoutKind } from '../core/names.js';
import type { PackageRef } from '../core/package-ref.js';
import { findManagedPrefix } from '../prefix/access.js';
import { readCurrent, readCurrentGeneration } from '../prefix/state.js';
import type { StoreContext } from '../store/context.js';
import { probeTransaction, type TransactionView } from '../txn/readers.js';

/** What {@link Prefix.status} reports. */
export interface PrefixStatus extends TransactionView {
  /** the prefix directory, absolute */
  prefix: string;
  /** how the prefix is managed */
  layout: LayoutKind;
  /** the store that manages the prefix */
  store: string;
  /** the current generation (0: nothing was ever activated) */
  generation: number;
  /** the active packages */
  packages: PackageRef[];
  /** a transaction is running right now (its writer is alive): transaction === 'running' */
  transactionInProgress: boolean;
}

export async function prefixStatus(ctx: StoreContext, dir: string): Promise<PrefixStatus> {
  const found = await findManagedPrefix(dir);
  const view = await probeTransaction(ctx, found);
  const cur = await readCurrent(found.paths);
  const gen = await readCurrentGeneration(found.paths, cur);
  return {
    prefix: found.paths.dir,
    layout: found.paths.layout,
    store: found.record.store,
    generation: cur.generation,
    packages: gen.packages,
    transactionInProgress: view.transaction === 'running',
    ...view,
  };
}
