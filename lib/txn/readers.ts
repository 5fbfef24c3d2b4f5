// How readers see a prefix's transactions (SPEC.md §Locks). Three answers:
//   running      a journal, and a writer holds the prefix lock (alive: the kernel drops a dead one's lock)
//   interrupted  a journal is there and nobody holds the lock; recovery was not possible (the
//                user may not write, gc holds the store, or recovery itself failed), with why
//   none         no journal (or this reader just recovered it)
// `status` probes without waiting. Readers that walk a tree (`verify --prefix`, `hash`) hold the
// prefix lock *shared* for the whole walk: writers take it exclusive, so nothing changes the tree
// under them and they never report a writer's half-done work as damage or digest a mix.

import { isPstoreError, PstoreError, errnoCode, isDenied } from '../core/errors.js';
import { acquireLock, type HeldLock, type LockMode } from '../fs/lock.js';
import { readJournal } from './journal.js';
import { findManagedPrefix, type ManagedPrefix } from '../prefix/access.js';
import {
  NONE,
  interrupted,
  RUNNING,
  type ReaderContext,
  type TransactionView,
} from './transaction-view.js';

export type { ReaderContext, TransactionState, TransactionView } from './transaction-view.js';

/** A walk that keeps finding new interrupted transactions gives up after this many tries. */
const MAX_ATTEMPTS = 8;

async function tryLock(found: ManagedPrefix, mode: LockMode): Promise<HeldLock | undefined> {
  try {
    return await acquireLock(found.paths.lock, {
      mode,
      waitMs: 0,
      what: `prefix ${found.paths.dir}`,
    });
  } catch (err) {
    if (isPstoreError(err, 'EPSTORE_BUSY')) return undefined;
    throw err;
  }
}

/**
 * For `status`: never waits for anything. A held lock with no journal is a writer that has not
 * touched the prefix yet (or a prune, which never touches the current tree): nothing is running
 * on what status reports. So no journal is `none` whoever holds the lock, and the lock is probed
 * only when there is one: the common answer binds no socket (Node's listen loads its cluster
 * module, and with it child_process and dgram).
 */
export async function probeTransaction(
  ctx: ReaderContext,
  found: ManagedPrefix,
): Promise<TransactionView> {
  if (!(await readJournal(found.paths))) return NONE;
  const held = await tryLock(found, 'shared');
  if (!held) return (await readJournal(found.paths)) ? RUNNING : NONE;
  try {
    if (!(await readJournal(found.paths))) return NONE;
  } finally {
    await held.release();
  }
  return recoverOrReport(ctx, found);
}

/** For `generations` and `lock`, which read only atomically replaced state files: no waiting either. */
export async function settled(
  ctx: ReaderContext,
  dir: string,
): Promise<ManagedPrefix & TransactionView> {
  const found = await findManagedPrefix(dir);
  if (!(await readJournal(found.paths))) return { ...found, ...NONE };
  return { ...found, ...(await recoverOrReport(ctx, found)) };
}

/**
 * A journal with no lock held is a dead writer's: recover it under the writer lock and the store
 * lock (each tried once, never waited for), or say why not. Errors other than the environment's
 * refusals and pstore's own typed ones are bugs and propagate.
 */
export async function recoverOrReport(
  ctx: ReaderContext,
  found: ManagedPrefix,
): Promise<TransactionView> {
  let lock: HeldLock | undefined;
  try {
    lock = await tryLock(found, 'exclusive');
  } catch (err) {
    if (!isDenied(err)) throw err;
    return interrupted(
      `not recovered: ${found.paths.lock} may not be written by this user (${errnoCode(err)}); run pstore recover as its owner`,
    );
  }
  if (!lock) return RUNNING;
  try {
    if (!(await readJournal(found.paths))) return NONE; // another reader recovered it meanwhile
    // The store context and the recovery code load only here: a reader that finds no journal (status,
    // every time but after a crash) loads neither, nor node:crypto.
    return await (await import('./recover-found.js')).recoverFound(ctx, found);
  } finally {
    await lock.release();
  }
}

/**
 * Run `read` under the prefix lock held shared, waiting up to --wait for a running writer. A dead
 * writer's journal is recovered first (dropping the shared lock: no upgrade, §Locks); one that
 * cannot be recovered is read as it is and reported interrupted.
 */
export async function withSteadyPrefix<T>(
  ctx: ReaderContext,
  dir: string,
  read: (found: ManagedPrefix, view: TransactionView) => Promise<T>,
): Promise<T> {
  const found = await findManagedPrefix(dir);
  let refused: TransactionView | undefined;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const lock = await acquireLock(found.paths.lock, {
      mode: 'shared',
      waitMs: ctx.waitMs,
      what: `prefix ${found.paths.dir}`,
      onWait: () =>
        ctx.onWait?.(`waiting for another pstore process to finish with ${found.paths.dir}`),
    });
    try {
      if (!(await readJournal(found.paths))) return await read(found, NONE);
      if (refused) return await read(found, refused);
    } finally {
      await lock.release();
    }
    const view = await recoverOrReport(ctx, found);
    if (view.transaction === 'interrupted') refused = view;
  }
  throw new PstoreError(
    'EPSTORE_BUSY',
    `${found.paths.dir} changed while reading (interrupted transactions kept appearing); try again`,
    { subject: found.paths.dir },
  );
}
