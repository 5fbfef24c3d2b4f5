// A sync with nothing to do, told without the prefix's lock (SPEC.md §Sync without the lock): a
// CI job that runs `pstore sync pstore.lock` at every step mostly finds the prefix holding the
// lockfile already, and the answer is in three small state files. Like `status`, this needs no
// store handle, no store index and no transaction code, and never waits.
//
// Why no lock is needed: the answer describes a committed generation. No journal is there when it
// is first looked for, so no transaction was left half done; current.json is then read, and
// whatever it names (the generation before a writer that started since, or the one it committed)
// was the prefix's committed state at that moment, and a generation's record never changes once
// current.json has named it. Anything else (no managed prefix, a journal, another set, another
// layout or store asked for, a state directory this user may not write, a prefix its store has no
// registration of) is left to the transaction, which gives the answer, the error or the recovery
// the locked path gives.

import { accessSync, constants as fsc, statSync } from 'node:fs';
import { resolveStoreRoot } from '../core/config.js';
import type { LayoutKind } from '../core/names.js';
import { findManagedPrefix } from '../prefix/access.js';
import { managedBy } from '../prefix/open.js';
import { readCurrent, readCurrentGeneration } from '../prefix/state.js';
import { storeLayout } from '../store/layout.js';
import { isRegistered } from '../store/prefixes.js';
import type { Lockfile } from '../transfer/lockfile.js';
import type { LinkMode } from '../txn/link.js';
import { unchangedResult, type TxnResult } from '../txn/txn-types.js';
import { holdsLockfile } from './prefix-targets.js';

/** Options of {@link syncNoopResult}: the ones of the sync it stands for that change its answer. */
export interface SyncNoopOptions {
  /** the store the caller named (default as openStore: $PSTORE_STORE, else $XDG_DATA_HOME/pstore) */
  store?: string;
  /** the layout the caller asked for: another one is the transaction's to refuse */
  layout?: LayoutKind;
  /** reported as the transaction reports it (`auto` when nothing was linked) */
  link?: LinkMode;
}

/**
 * The result `Prefix.syncLockfile(lock)` would return for a prefix at `dir` that holds exactly the
 * lockfile's entries (`noop: true`), read without the prefix's lock; undefined in every other case
 * (the caller then runs the transaction).
 */
export async function syncNoopResult(
  dir: string,
  lock: Lockfile,
  opts: SyncNoopOptions = {},
): Promise<TxnResult | undefined> {
  // A state file that cannot be read is the transaction's to report (or to recover from).
  return noopOrUndefined(dir, lock, opts).catch(() => undefined);
}

async function noopOrUndefined(
  dir: string,
  lock: Lockfile,
  opts: SyncNoopOptions,
): Promise<TxnResult | undefined> {
  const found = await findManagedPrefix(dir);
  const p = found.paths;
  // What the transaction refuses: another layout, another store, a state directory it may not
  // write (it takes the lock there).
  if (opts.layout !== undefined && opts.layout !== p.layout) return undefined;
  if (!managedBy(found.record, resolveStoreRoot(opts.store))) return undefined;
  accessSync(p.meta, fsc.W_OK); // throws: declined
  // A journal (or a failure to tell: statSync throws all but ENOENT) is the transaction's.
  if (statSync(p.journal, { throwIfNoEntry: false })) return undefined;
  const cur = await readCurrent(p);
  const { packages } = await readCurrentGeneration(p, cur);
  if (!holdsLockfile(packages, lock)) return undefined;
  // The transaction registers a prefix its store does not list (gc's roots): left to it.
  if (!isRegistered(storeLayout(found.record.store), p.meta)) return undefined;
  return unchangedResult(p, cur.generation, opts.link ?? 'auto');
}
