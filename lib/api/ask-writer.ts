// The waiting writer's shortcut (SPEC.md §Group commit): an `activate` or `deactivate` that finds
// another process writing the prefix hands it its request before loading anything a transaction
// of its own needs (no store handle, no LevelDB, no manifest, no transaction code). Undefined
// means "not served": nobody holds the prefix, the request may not be grouped, or the holder let
// go without answering; the caller then runs the transaction as usual (Prefix.activate, ...),
// which waits, asks again or runs it itself.

import { DEFAULT_WAIT_SECONDS, resolveStoreRoot } from '../core/config.js';
import { pausepoint } from '../core/crashpoint.js';
import { ARRIVAL_MS, arriveAt, askExclusiveHolder, releaseArrivals } from '../fs/lock.js';
import { existingPrefixLock, prefixLockFor } from '../prefix/lock-file.js';
import { groupAsk, type GroupAsk } from '../txn/group-ask.js';
import { replaySteps } from '../txn/steps.js';
import type { TxnOptions, TxnResult } from '../txn/txn-types.js';
import { activations, deactivations } from './prefix-ops.js';

/** What to ask: refs to activate (with names to replace), or names to deactivate. */
export type WriterChange =
  | {
      /** refs to activate, as `Prefix.activate` takes them */
      activate: readonly string[];
      /** active names to deactivate in the same transaction (`--replace`) */
      replace?: readonly string[];
    }
  | {
      /** names (or NAME@VERSION) to deactivate, as `Prefix.deactivate` takes them */
      deactivate: readonly string[];
    };

export interface AskWriterOptions extends TxnOptions {
  /** the store (default as openStore: $PSTORE_STORE, else $XDG_DATA_HOME/pstore) */
  store?: string;
  /** how long to wait for the holder to take the request (default 600) */
  waitSeconds?: number;
  /** called once when a holder is found, before the request is sent */
  onWait?: (what: string) => void;
}

/** Have the prefix's writer of the moment run `change` for this process, if it will. */
export async function askPrefixWriter(
  dir: string,
  change: WriterChange,
  opts: AskWriterOptions = {},
): Promise<TxnResult | undefined> {
  const started = Date.now(); // not performance.now(): perf_hooks is one more module to load
  const waitMs = (opts.waitSeconds ?? DEFAULT_WAIT_SECONDS) * 1000;
  const [kind, ops] =
    'activate' in change
      ? ([
          'activate',
          [...deactivations([change.replace ?? []]), ...activations([change.activate])],
        ] as const)
      : (['deactivate', deactivations([change.deactivate])] as const);
  const ask = groupAsk(resolveStoreRoot(opts.store), kind, ops, { ...opts, waitMs });
  if (!ask) return undefined;
  try {
    await askWhenHeld(dir, ask, opts, started + waitMs);
    return undefined;
  } catch (err) {
    const served = ask.outcome(err);
    await releaseArrivals(); // served: this process will take no lock
    replaySteps(opts.onProgress, Date.now() - started, served.steps);
    return served.result;
  } finally {
    await ask.done();
  }
}

/**
 * Ask the holder of the prefix's lock; while nobody holds it, wait for a writer arriving at the
 * same time to take it (arriveAt), unless this process is the first to arrive. Returns when not
 * served (the caller runs the transaction); an answer is thrown as askExclusiveHolder throws it.
 */
async function askWhenHeld(
  dir: string,
  ask: GroupAsk,
  opts: AskWriterOptions,
  deadline: number,
): Promise<void> {
  const arrivalsEnd = Math.min(deadline, Date.now() + ARRIVAL_MS);
  // Once first, ask once more: the writer before may have taken the lock just before we bound.
  for (let first = false; ;) {
    const lock = await existingPrefixLock(dir);
    const asked =
      lock &&
      (await askExclusiveHolder(lock, {
        waitMs: deadline - Date.now(),
        what: `prefix ${dir}`,
        onWait: () => opts.onWait?.(`waiting for another pstore process to finish with ${dir}`),
        request: (file) => ask.request(file),
      }));
    if (asked === 'done' || Date.now() >= arrivalsEnd) return;
    if (first) return pausepoint('ask:first-arrival');
    const file = lock ?? (await prefixLockFor(dir, opts.layout));
    first = (await arriveAt(file, arrivalsEnd)) === 'first';
  }
}
