// Find or create the state of a prefix. Creation happens under the prefix lock, so sixteen
// processes activating into a new prefix at once agree on one layout and one store.

import { promises as fsp, statSync } from 'node:fs';
import path from 'node:path';
import { PstoreError, errnoCode } from '../core/errors.js';
import { allSettledInOrder } from '../core/settle.js';
import { lstatOrUndefined, realpathOrSelf } from '../fs/exists.js';
import { refusePseudoFilesystem } from '../fs/pseudo-fs.js';
import { acquireLock, type HeldLock, type LockOptions } from '../fs/lock.js';
import { pausepoint } from '../core/crashpoint.js';
import { GROUP_TOKEN_PREFIX, TEMP_PREFIX, type LayoutKind } from '../core/names.js';
import { isDeadWaitersToken } from './group-token.js';
import { prefixPaths, type PrefixPaths } from './layout.js';
import { underRealParent } from './lock-file.js';
import { refuseOverlap } from './overlap.js';
import { detectPrefix, pendingJson, type PrefixRecord } from './state.js';
import type { PendingFile } from '../fs/atomic.js';
import { sweepTreeLeftovers } from './trees.js';

/** The absolute prefix path, with symlinks above it resolved (an inplace DIR itself too). */
export async function canonicalPrefixDir(
  dir: string,
  layout: LayoutKind | undefined,
): Promise<string> {
  const abs = path.resolve(dir);
  await refusePseudoFilesystem(abs, 'prefix');
  refuseUnusablePath(abs);
  const joined = await underRealParent(abs);
  if (layout === 'generations') return joined;
  const st = lstatOrUndefined(joined);
  if (st?.isSymbolicLink() && (await detectPrefix(joined))?.record.layout === 'generations')
    return joined;
  return realpathOrSelf(joined);
}

/**
 * A prefix path that can hold no directory tree is the user's to fix, refused (EPSTORE_INVALID
 * naming the part in the way) before anything reads or makes a path under it: a file (`--prefix
 * afile`, `afile/sub`), a symlink loop anywhere, a parent that is a symlink to nothing. Its deepest
 * existing part decides; what is below it can be made. DIR itself may be a dangling symlink: a
 * generations prefix whose tree is gone is the prefix code's to report.
 */
function refuseUnusablePath(abs: string): void {
  for (let p = abs; ; p = path.dirname(p)) {
    if (lstatOrUndefined(p) !== undefined) {
      const why = unusableBecause(p, p === abs);
      if (why !== undefined)
        throw new PstoreError('EPSTORE_INVALID', `${p} ${why}; a prefix is a directory`, {
          subject: p,
          hint: 'check --prefix',
        });
      return;
    }
    if (path.dirname(p) === p) return;
  }
}

/** Why the existing path `p` cannot be, or lead to, a prefix directory; undefined if it can. */
function unusableBecause(p: string, isPrefix: boolean): string | undefined {
  try {
    return statSync(p).isDirectory() ? undefined : 'is not a directory';
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ELOOP') return 'is a symlink loop';
    if (code === 'ENOENT' && !isPrefix) return 'is a symlink to nothing';
    if (code === 'ENOENT' || code === 'EACCES') return undefined; // left to the prefix code
    throw err;
  }
}

export interface OpenedPrefix {
  paths: PrefixPaths;
  record: PrefixRecord;
  lock: HeldLock;
  /** this call wrote prefix.json: a failed first transaction removes the prefix state again */
  created: boolean;
  /** the top-most directory this call created (DIR or one of its parents), if any */
  createdTop: string | undefined;
  /**
   * With `deferRecord`, the prefix.json of a prefix this call created, written and being flushed:
   * the caller places it (place()) with its first journal, or before it returns having changed
   * nothing; discardNewPrefix discards it.
   */
  unplacedRecord: PendingFile | undefined;
}

export function notManaged(dir: string): PstoreError {
  return new PstoreError('EPSTORE_NOT_FOUND', `${dir} is not a prefix managed by pstore`, {
    subject: dir,
  });
}

/** Take the prefix's writer lock, creating the prefix if `create` (with `layout`, default inplace). */
export async function openPrefixForWrite(
  dir: string,
  opts: {
    storeRoot: string;
    layout?: LayoutKind | undefined;
    create: boolean;
    waitMs: number;
    onWait?: (() => void) | undefined;
    /** a request for the writer of the moment while waiting for it (LockOptions.request) */
    request?: LockOptions['request'];
    /** called once the lock is held, before the prefix's state is swept and written */
    onLocked?: (() => void) | undefined;
    /** leave a new prefix's prefix.json to the caller to put in place (OpenedPrefix.unplacedRecord) */
    deferRecord?: boolean;
  },
): Promise<OpenedPrefix> {
  const { paths, found } = await prefixToOpen(dir, opts);
  const abs = paths.dir;
  const layout = paths.layout;
  const createdTop = found ? undefined : await prepareNewPrefix(paths);
  const lock = await acquireLock(paths.lock, {
    mode: 'exclusive',
    waitMs: opts.waitMs,
    what: `prefix ${abs}`,
    onWait: opts.onWait,
    ...(opts.request ? { request: opts.request } : {}),
  });
  opts.onLocked?.();
  await pausepoint('prefix:locked');
  try {
    // Side by side: the sweeps remove temp names only, which detection does not read (history
    // is what is not a temp), so the answer is the one running them in turn would give.
    const [, , detected] = await allSettledInOrder([
      sweepStateTemps(paths),
      sweepTreeLeftovers(paths),
      detectPrefix(abs),
    ]);
    let record = detected?.record;
    const created = record === undefined;
    let unplaced: PendingFile | undefined;
    if (!record) {
      record = {
        formatVersion: 1,
        layout,
        store: opts.storeRoot,
        createdAt: new Date().toISOString(),
      };
      // The file is fsynced before its rename; its name in <state> is not, here: the journal's
      // write fsyncs <state> (writeJournal) after this rename and before the prefix is touched,
      // and until a journal exists the prefix has no history to lose (a failed first transaction
      // removes prefix.json; one that changes nothing fsyncs <state> itself, txn/run.ts). So
      // the same directory's later fsync makes this name durable before anything depends on it.
      // With `deferRecord` the rename is the caller's, with its first journal: the fsync (the
      // first in new directories, it flushes them too) runs meanwhile, and until then the prefix
      // is not there for anyone else (a writer that finds the temp after a crash sweeps it).
      unplaced = pendingJson(paths.prefixFile, record); // <state> was made above
      if (!opts.deferRecord) {
        await unplaced.place();
        unplaced = undefined;
      }
    }
    // A record this call wrote names this very store root: nothing to compare.
    if (!created) await requireSameStore(abs, record, opts.storeRoot);
    return {
      paths,
      record,
      lock,
      created,
      createdTop: created ? createdTop : undefined,
      unplacedRecord: unplaced,
    };
  } catch (err) {
    await lock.release();
    throw err;
  }
}

/**
 * What opening `dir` for writing would find, checked as openPrefixForWrite checks it but without
 * creating, locking or writing anything: a dry run asks this. Refuses a layout other than the
 * prefix's, an unmanaged DIR unless `create`, an overlap with the store (before anything is made).
 */
export async function prefixToOpen(
  dir: string,
  opts: { storeRoot: string; layout?: LayoutKind | undefined; create: boolean },
): Promise<{ paths: PrefixPaths; found: { record: PrefixRecord } | undefined }> {
  const abs = await canonicalPrefixDir(dir, opts.layout);
  const found = await detectPrefix(abs);
  if (found && opts.layout && opts.layout !== found.record.layout) {
    throw new PstoreError(
      'EPSTORE_USAGE',
      `${abs} uses the ${found.record.layout} layout, not ${opts.layout}`,
      { subject: abs, data: { option: 'layout' } },
    );
  }
  if (!found && !opts.create) throw notManaged(abs);
  const paths = prefixPaths(abs, found?.record.layout ?? opts.layout ?? 'inplace');
  await refuseOverlap(paths, opts.storeRoot);
  return { paths, found };
}

export async function requireSameStore(
  abs: string,
  record: PrefixRecord,
  storeRoot: string,
): Promise<void> {
  if (!managedBy(record, storeRoot)) {
    throw new PstoreError(
      'EPSTORE_CONFLICT',
      `${abs} is managed with the store ${record.store}, not ${storeRoot}`,
      { subject: abs },
    );
  }
}

/**
 * State files are written (tmp + rename) only under the writer lock: a temp seen now is a crash's.
 * But a waiting writer's token (group-token.ts) is made without the lock, as soon as the holder
 * has bound it, and this holder reads it when it serves that request: it goes only once its
 * waiter is gone.
 */
async function sweepStateTemps(paths: PrefixPaths): Promise<void> {
  const names = await fsp.readdir(paths.meta).catch(() => [] as string[]);
  await Promise.all(
    names
      .filter((n) => n.startsWith(`${TEMP_PREFIX}tmp-`))
      .map(async (n) => {
        const file = path.join(paths.meta, n);
        if (n.startsWith(GROUP_TOKEN_PREFIX) && !(await isDeadWaitersToken(file))) return;
        await fsp.rm(file, { force: true });
      }),
  );
}

/** Whether the prefix's record names the store at `storeRoot` (both resolved, symlinks too). */
export function managedBy(record: PrefixRecord, storeRoot: string): boolean {
  const real = (p: string) => realpathOrSelf(path.resolve(p));
  return real(record.store) === real(storeRoot);
}

/** Make the directories a new prefix needs; returns the top-most directory it made, if any. */
async function prepareNewPrefix(paths: PrefixPaths): Promise<string | undefined> {
  let made: string | undefined;
  if (paths.layout === 'inplace') {
    made = await fsp.mkdir(paths.dir, { recursive: true });
  } else {
    await refuseOccupiedSymlinkPlace(paths.dir);
    made = await fsp.mkdir(path.dirname(paths.dir), { recursive: true });
  }
  await fsp.mkdir(paths.meta, { recursive: true });
  return made;
}

/** A new generations prefix is a symlink pstore creates: nothing may be at DIR yet. */
export async function refuseOccupiedSymlinkPlace(dir: string): Promise<void> {
  const st = await fsp.lstat(dir).catch((err: unknown) => {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  });
  if (st) {
    throw new PstoreError(
      'EPSTORE_CONFLICT',
      `${dir} exists; a generations prefix must be created where nothing is (pstore makes it a symlink)`,
      { subject: dir },
    );
  }
}

/**
 * Undo the creation of a prefix whose first transaction failed, while still holding its lock.
 * Only what this call made goes, each name on its own and never recursively: had anything else
 * arrived (history, someone's files), it stays, and so does every directory holding it.
 */
export async function discardNewPrefix(opened: OpenedPrefix): Promise<void> {
  if (!opened.created) return;
  const p = opened.paths;
  await opened.unplacedRecord?.discard();
  await sweepStateTemps(p);
  await sweepTreeLeftovers(p);
  const tryRmdir = (dir: string) =>
    fsp.rmdir(dir).then(
      () => true,
      () => false,
    );
  for (const dir of [p.trees, p.generations]) await tryRmdir(dir);
  // the ownership index this transaction built for the new prefix: a cache, never history
  await fsp.rm(p.ownership, { recursive: true, force: true });
  // prefix.json last but one: until it goes, this is a prefix with no history, which is harmless.
  await fsp.rm(p.prefixFile, { force: true });
  await fsp.rm(p.lock, { force: true });
  if (!(await tryRmdir(p.meta))) return;
  const top = opened.createdTop;
  if (top === undefined) return;
  // Remove the directories this call made, innermost first, each only if empty.
  let dir = p.layout === 'inplace' ? p.dir : path.dirname(p.dir);
  for (;;) {
    if (!(await tryRmdir(dir))) return;
    if (dir === top || path.dirname(dir) === dir) return;
    dir = path.dirname(dir);
  }
}
