// A prefix's status: its layout, current generation, active packages and whether a transaction is
// running or interrupted. Never waits, and reads a few small files whatever the prefix's size. It
// needs no store handle (the prefix's record names its store): `pstore status` calls
// readPrefixStatus without opening one, so it loads no store, index or node:crypto (SPEC.md
// §Dependencies and cost model, status cost).

import type { LayoutKind } from '../core/names.js';
import type { PackageRef } from '../core/package-ref.js';
import { findManagedPrefix } from '../prefix/access.js';
import { readCurrent, readCurrentGeneration } from '../prefix/state.js';
import { DEFAULT_WAIT_SECONDS } from '../core/config.js';
import { probeTransaction, type ReaderContext, type TransactionView } from '../txn/readers.js';

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

/** Options of {@link readPrefixStatus}. */
export interface PrefixStatusOptions {
  /** how long a recovery of a dead writer's journal may wait (it tries each lock once) */
  waitSeconds?: number;
  /** called when recovery has to wait for another process */
  onWait?: (what: string) => void;
}

/** The status of the prefix at `dir`, without a store handle (as {@link Prefix.status}). */
export function readPrefixStatus(
  dir: string,
  opts: PrefixStatusOptions = {},
): Promise<PrefixStatus> {
  return prefixStatus(
    { waitMs: (opts.waitSeconds ?? DEFAULT_WAIT_SECONDS) * 1000, onWait: opts.onWait },
    dir,
  );
}

export async function prefixStatus(ctx: ReaderContext, dir: string): Promise<PrefixStatus> {
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
