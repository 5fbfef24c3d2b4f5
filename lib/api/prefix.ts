// The prefix handle: store.prefix(dir) → activate / deactivate / rollback / sync / transaction /
// status / generations / recover / prune / verify / hash / lock / owners / info / diff. A thin
// facade: writers go through runTransaction (targets in prefix-targets.ts), maintenance through
// the one writer lock order (txn/writer.ts), readers read the committed state (prefix-reads.ts).

import path from 'node:path';
import { PstoreError } from '../core/errors.js';
import { abortingListener, throwIfAborted } from '../core/abort.js';
import { guarded } from './boundary.js';
import type { LayoutKind } from '../core/names.js';
import { pruneGenerations, type PruneResult } from '../prefix/prune.js';
import { listGenerationNumbers } from '../prefix/state.js';
import { canonicalPrefixDir } from '../prefix/open.js';
import { detectPrefix } from '../prefix/state.js';
import { findManagedPrefix } from '../prefix/access.js';
import type { StoreContext } from '../store/context.js';
import type { Lockfile } from '../transfer/lockfile.js';
import type { RecoverResult } from '../txn/recover.js';
import {
  runTransaction,
  type Target,
  type TargetContext,
  type TxnOptions,
  type TxnResult,
} from '../txn/run.js';
import { withPrefixWriter } from '../txn/writer.js';
import { rebuildOwnership } from '../txn/ownership/sync.js';
import {
  hashPrefix,
  verifyPrefix,
  type PrefixHashResult,
  type PrefixVerifyResult,
} from '../txn/inspect.js';
import type { TransactionView } from '../txn/readers.js';
import {
  activeEntryInfo,
  diffGenerations,
  prefixOwners,
  type DiffOptions,
  type GenerationDiff,
  type PathOwners,
} from './prefix-queries.js';
import {
  prefixGenerations,
  prefixLockfile,
  prefixStatus,
  type GenerationInfo,
  type PrefixStatus,
} from './prefix-reads.js';
import {
  lockfileTarget,
  opsTarget,
  rollbackTarget,
  syncTarget,
  type Op,
} from './prefix-targets.js';
import type { EntryInfo } from '../store/query.js';

export type {
  DiffOptions,
  GenerationDiff,
  GenerationInfo,
  PathOwners,
  PrefixHashResult,
  PrefixStatus,
  PrefixVerifyResult,
  PruneResult,
  TransactionView,
};

/**
 * Names a store entry: a string (`NAME`, `NAME@VERSION` or an id prefix of at least 8 hex
 * digits), or an entry object as `store.add`, `store.list` or `store.resolve` return it (its `id`).
 */
export type EntryRef =
  | string
  | {
      /** the entry id (a full id, or a prefix of at least 8 hex digits) */
      readonly id: string;
    };

/** One EntryRef, or a list of them: every method that takes refs takes either. */
export type EntryRefs = EntryRef | readonly EntryRef[];

/** Names of active packages: `NAME`, or `NAME@VERSION` of the version active. One or a list. */
export type ActiveNames = string | readonly string[];

/** Several activations and deactivations, committed as one transaction (one generation). */
export interface Transaction {
  /** queue refs to activate (each replaces the active version of its name) */
  activate(...refs: EntryRefs[]): Transaction;
  /** queue names to deactivate */
  deactivate(...names: ActiveNames[]): Transaction;
  /** run the queued operations in one transaction, in the order they were queued */
  commit(opts?: TxnOptions): Promise<TxnResult>;
}

/** A prefix: a directory this store activates entries into, atomically, one generation a change. */
export interface Prefix {
  /** the prefix directory, absolute */
  readonly dir: string;
  /** whether `dir` is a prefix managed by pstore (false for a missing or foreign directory) */
  exists(): Promise<boolean>;
  /** make `refs` active, each replacing the active version of its name; creates the prefix */
  activate(refs: EntryRefs, opts?: TxnOptions & { replace?: ActiveNames }): Promise<TxnResult>;
  /** remove the packages named; EPSTORE_NOT_FOUND if one is not active */
  deactivate(names: ActiveNames, opts?: TxnOptions): Promise<TxnResult>;
  /** make generation `to` (default: the one before the current) current again */
  rollback(opts?: TxnOptions & { to?: number }): Promise<TxnResult>;
  /** make the active set exactly these refs, in one transaction */
  sync(refs: EntryRefs, opts?: TxnOptions): Promise<TxnResult>;
  /** several operations as one transaction: `prefix.transaction().activate(a).deactivate(b).commit()` */
  transaction(): Transaction;
  /** the current generation, its packages, and whether a transaction is running or interrupted */
  status(): Promise<PrefixStatus>;
  /** every generation kept, oldest first */
  generations(): Promise<GenerationInfo[]>;
  /** finish or revert an interrupted transaction (any writer does this first anyway) */
  recover(): Promise<RecoverResult>;
  /** remove all but the newest `keep` generations (never the current one) */
  prune(opts: { keep: number }): Promise<PruneResult>;
  /** compare every owned path with its manifest (content, mode, type) */
  verify(opts?: { repair?: boolean }): Promise<PrefixVerifyResult>;
  /** digest of the owned tree, read under the prefix lock (shared): one committed state */
  hash(): Promise<PrefixHashResult>;
  /** the active set as a lockfile */
  lock(): Promise<Lockfile>;
  /** make the active set exactly the lockfile's; every missing entry is named in one EPSTORE_NOT_FOUND */
  syncLockfile(lock: Lockfile, opts?: TxnOptions): Promise<TxnResult>;
  /**
   * Which active packages own each path (absolute, or relative to the prefix), as dpkg -S: an
   * unowned path (or one outside the prefix) has no owners; a directory shared by several
   * packages lists each. Reads every active manifest once, whatever the number of paths.
   */
  owners(paths: string[]): Promise<PathOwners[]>;
  /** the entry active here that `ref` names (NAME, NAME@VERSION or an id prefix); EPSTORE_NOT_FOUND if none */
  info(ref: string, opts?: { paths?: boolean }): Promise<EntryInfo>;
  /** packages added, removed, up/downgraded (and with `files`, paths) between two generations */
  diff(opts?: DiffOptions): Promise<GenerationDiff>;
}

/** Refs as strings: an entry object is named by its full id. */
export function refStrings(refs: readonly EntryRefs[]): string[] {
  return refs.flat().map((r) => (typeof r === 'string' ? r : r.id));
}

function activations(refs: readonly EntryRefs[]): Op[] {
  return refStrings(refs).map((ref) => ({ kind: 'activate', ref }));
}

function deactivations(names: readonly ActiveNames[]): Op[] {
  return names.flat().map((name) => ({ kind: 'deactivate', name }));
}

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

function openTransaction(run: Run): Transaction {
  const ops: Op[] = [];
  const txn: Transaction = {
    activate: (...refs) => {
      ops.push(...activations(refs));
      return txn;
    },
    deactivate: (...names) => {
      ops.push(...deactivations(names));
      return txn;
    },
    commit: (opts) =>
      runOps(
        run,
        ops.some((o) => o.kind === 'activate') ? 'activate' : 'deactivate',
        [...ops],
        opts,
      ),
  };
  return guarded(txn);
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

async function isManaged(dir: string): Promise<boolean> {
  return (await detectPrefix(await canonicalPrefixDir(dir, undefined))) !== undefined;
}

async function generationNumbersOf(dir: string): Promise<number[]> {
  return listGenerationNumbers((await findManagedPrefix(dir)).paths);
}

export function openPrefix(
  ctx: StoreContext,
  dir: string,
  defaults: { layout?: LayoutKind } = {},
): Prefix {
  const run = transactionRunner(ctx, dir, defaults);
  return {
    dir: path.resolve(dir),
    exists: () => isManaged(dir),
    activate: (refs, { replace = [], ...opts } = {}) =>
      runOps(run, 'activate', [...deactivations([replace]), ...activations([refs])], opts),
    deactivate: (names, opts) => runOps(run, 'deactivate', deactivations([names]), opts),
    sync: (refs, opts) => run('sync', (t) => syncTarget(refStrings([refs]), t), opts),
    rollback: (opts = {}) =>
      run(
        'rollback',
        async (t) => rollbackTarget(dir, await generationNumbersOf(dir), opts.to, t),
        opts,
      ),
    syncLockfile: (lock, opts) => run('sync', (t) => lockfileTarget(lock, t), opts),
    transaction: () => openTransaction(run),
    status: () => prefixStatus(ctx, dir),
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
