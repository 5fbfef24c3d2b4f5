// What a prefix handle is (the Prefix interface, its Transaction, the refs and names it takes):
// types only, shared by prefix.ts, which builds the handle, and prefix-methods.ts, which holds
// the methods loaded on first use.

import type { PruneResult } from '../prefix/prune.js';
import type { EntryInfo } from '../store/query.js';
import type { Lockfile } from '../transfer/lockfile.js';
import type { PrefixHashResult, PrefixVerifyResult } from '../txn/inspect.js';
import type { RecoverResult } from '../txn/recover.js';
import type { TxnOptions, TxnResult } from '../txn/run.js';
import type { DiffOptions, GenerationDiff, PathOwners } from './prefix-queries.js';
import type { GenerationInfo } from './prefix-reads.js';
import type { PrefixStatus } from './prefix-status.js';

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
