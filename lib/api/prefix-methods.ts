// The prefix handle's methods other than status and exists, loaded on first use (prefix.ts):
// writers go through runTransaction (targets in prefix-targets.ts), maintenance through the one
// writer lock order (txn/writer.ts), readers read the committed state (prefix-reads.ts).

import { PstoreError } from '../core/errors.js';
import { abortingListener, throwIfAborted } from '../core/abort.js';
import type { LayoutKind } from '../core/names.js';
import { pruneGenerations, type PruneResult } from '../prefix/prune.js';
import type { StoreContext } from '../store/context.js';
import {
  runTransaction,
  type Target,
  type TargetContext,
  type TxnOptions,
  type TxnResult,
} from '../txn/run.js';
import { withPrefixWriter } from '../txn/writer.js';
import { rebuildOwnership } from '../txn/ownership/sync.js';
import { hashPrefix, verifyPrefix, type PrefixVerifyResult } from '../txn/inspect.js';
import { activeEntryInfo, diffGenerations, prefixOwners } from './prefix-queries.js';
import { prefixGenerations, prefixLockfile } from './prefix-reads.js';
import {
  lockfileTarget,
  opsTarget,
  rollbackTarget,
  syncTarget,
  type Op,
} from './prefix-targets.js';
import type { Prefix } from './prefix-handle.js';
import { activations, deactivations, refStrings } from './prefix-ops.js';

/** The methods of a {@link Prefix} loaded on first use, and the commit of a `transaction()`. */
export type PrefixMethods = Omit<Prefix, 'dir' | 'exists' | 'status' | 'transaction'> & {
  commitOps(ops: readonly Op[], opts?: TxnOptions): Promise<TxnResult>;
};

type Run = (
  kind: 'activate' | 'deactivate' | 'rollback' | 'sync',
  target: (t: TargetContext) => Promise<Target>,
  opts?: TxnOptions,
  /** the operations `target` applies, as data: a writer that waits may send them (txn/group.ts) */
  ops?: readonly Op[],
) => Promise<TxnResult>;

/** runTransaction with the prefix's defaults, and the caller's signal checked at each safe point. */
function transactionRunner(ctx: StoreContext, dir: string, defaults: { layout?: LayoutKind }): Run {
  return async (kind, target, opts = {}, ops) => {
    const what = { what: `the transaction on ${dir}`, subject: dir };
    throwIfAborted(opts.signal, what);
    const onProgress = abortingListener(opts.signal, what, opts.onProgress);
    const checked = async (t: TargetContext) => {
      throwIfAborted(opts.signal, what);
      return target(t);
    };
    return runTransaction(
      ctx,
      dir,
      kind,
      checked,
      { ...defaults, ...opts, ...(onProgress ? { onProgress } : {}) },
      ops,
    );
  };
}

/** A transaction of activations and deactivations: its target, and the ops as data. */
function runOps(
  run: Run,
  kind: 'activate' | 'deactivate',
  ops: readonly Op[],
  opts?: TxnOptions,
): Promise<TxnResult> {
  return run(kind, (t) => opsTarget(ops, t), opts, ops);
}

async function prune(ctx: StoreContext, dir: string, keep: number): Promise<PruneResult> {
  if (!Number.isInteger(keep) || keep < 0)
    throw new PstoreError('EPSTORE_USAGE', `keep must be a whole number ≥ 0, not ${keep}`, {
      subject: String(keep),
      data: { option: 'keep' },
    });
  return withPrefixWriter(ctx, dir, ({ paths }) => pruneGenerations(paths, keep));
}

/**
 * `repair` rebuilds the ownership index from the manifests first, under the writer lock and after
 * any interrupted transaction is recovered (withPrefixWriter does both).
 */
async function verifyAndRepair(
  ctx: StoreContext,
  dir: string,
  repair: boolean,
): Promise<PrefixVerifyResult> {
  if (repair) await withPrefixWriter(ctx, dir, (w) => rebuildOwnership(w.ctx, w.paths));
  return verifyPrefix(ctx, dir);
}

export function prefixMethods(
  ctx: StoreContext,
  dir: string,
  defaults: { layout?: LayoutKind },
): PrefixMethods {
  const run = transactionRunner(ctx, dir, defaults);
  return {
    activate: (refs, { replace = [], ...opts } = {}) =>
      runOps(run, 'activate', [...deactivations([replace]), ...activations([refs])], opts),
    deactivate: (names, opts) => runOps(run, 'deactivate', deactivations([names]), opts),
    sync: (refs, opts) => run('sync', (t) => syncTarget(refStrings([refs]), t), opts),
    rollback: (opts = {}) => run('rollback', (t) => rollbackTarget(dir, opts.to, t), opts),
    syncLockfile: (lock, opts) => run('sync', (t) => lockfileTarget(lock, t), opts),
    commitOps: (ops, opts) =>
      runOps(
        run,
        ops.some((o) => o.kind === 'activate') ? 'activate' : 'deactivate',
        [...ops],
        opts,
      ),
    generations: () => prefixGenerations(ctx, dir),
    recover: () => withPrefixWriter(ctx, dir, async ({ recovered }) => recovered),
    prune: ({ keep }) => prune(ctx, dir, keep),
    verify: (opts) => verifyAndRepair(ctx, dir, opts?.repair === true),
    hash: () => hashPrefix(ctx, dir),
    lock: () => prefixLockfile(ctx, dir),
    owners: (paths) => prefixOwners(ctx, dir, paths),
    info: (ref, o) => activeEntryInfo(ctx, dir, ref, o),
    diff: (o) => diffGenerations(ctx, dir, o),
  };
}
