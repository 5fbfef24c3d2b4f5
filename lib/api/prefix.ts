// The prefix handle: store.prefix(dir) → activate / deactivate / rollback / sync / transaction /
// status / generations / recover / prune / verify / hash / lock / owners / info / diff. A thin
// facade: status is answered here (prefix-status.ts); every other method is in prefix-methods.ts,
// loaded on the handle's first call of one.

import path from 'node:path';
import type { LayoutKind } from '../core/names.js';
import type { PruneResult } from '../prefix/prune.js';
import { canonicalPrefixDir } from '../prefix/open.js';
import { detectPrefix } from '../prefix/state.js';
import type { StoreContext } from '../store/context.js';
import type { TxnOptions, TxnResult } from '../txn/run.js';
import type { PrefixHashResult, PrefixVerifyResult } from '../txn/inspect.js';
import type { TransactionView } from '../txn/readers.js';
import type { DiffOptions, GenerationDiff, PathOwners } from './prefix-queries.js';
import type { GenerationInfo } from './prefix-reads.js';
import { prefixStatus, type PrefixStatus } from './prefix-status.js';
import type { Op } from './prefix-targets.js';
import type { PrefixMethods } from './prefix-methods.js';
import { guarded } from './boundary.js';
import type { Prefix, Transaction } from './prefix-handle.js';
import { activations, deactivations } from './prefix-ops.js';

export type { ActiveNames, EntryRef, EntryRefs, Prefix, Transaction } from './prefix-handle.js';
export { refStrings } from './prefix-ops.js';
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

/** Activations and deactivations gathered in order, committed as one transaction by `commit`. */
function openTransaction(
  commit: (ops: readonly Op[], opts?: TxnOptions) => Promise<TxnResult>,
): Transaction {
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
    commit: (opts) => commit(ops, opts),
  };
  return guarded(txn);
}

async function isManaged(dir: string): Promise<boolean> {
  return (await detectPrefix(await canonicalPrefixDir(dir, undefined))) !== undefined;
}

/** `load()[key]`, called once `load` settles: a method whose module is compiled on first call. */
function lazyMethod<K extends keyof PrefixMethods>(
  load: () => Promise<PrefixMethods>,
  key: K,
): PrefixMethods[K] {
  type Fn = (...args: unknown[]) => unknown;
  return (async (...args: unknown[]) => ((await load())[key] as Fn)(...args)) as PrefixMethods[K];
}

export function openPrefix(
  ctx: StoreContext,
  dir: string,
  defaults: { layout?: LayoutKind } = {},
): Prefix {
  // Only status and exists are compiled with the handle: every other method (transactions,
  // LevelDB, the writer lock, manifests) loads on first use, so `status` never pays for them.
  let loaded: Promise<PrefixMethods> | undefined;
  const load = () =>
    (loaded ??= import('./prefix-methods.js').then((m) => m.prefixMethods(ctx, dir, defaults)));
  const later = <K extends keyof PrefixMethods>(key: K) => lazyMethod(load, key);
  return {
    dir: path.resolve(dir),
    exists: () => isManaged(dir),
    status: () => prefixStatus(ctx, dir),
    transaction: () => openTransaction(later('commitOps')),
    activate: later('activate'),
    deactivate: later('deactivate'),
    sync: later('sync'),
    rollback: later('rollback'),
    syncLockfile: later('syncLockfile'),
    generations: later('generations'),
    recover: later('recover'),
    prune: later('prune'),
    verify: later('verify'),
    hash: later('hash'),
    lock: later('lock'),
    owners: later('owners'),
    info: later('info'),
    diff: later('diff'),
  };
}
