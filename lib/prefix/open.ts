// Find or create the state of a prefix. Creation happens under the prefix lock, so sixteen
// processes activating into a new prefix at once agree on one layout and one store.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { PstoreError, errnoCode } from '../errors.js';
import { acquireLock, type HeldLock } from '../lock/file-lock.js';
import { prefixPaths, type LayoutKind, type PrefixPaths } from './layout.js';
import { refuseOverlap } from './overlap.js';
import { detectPrefix, writeJson, type PrefixRecord } from './state.js';

/** The absolute prefix path, with symlinks above it resolved (an inplace DIR itself too). */
export async function canonicalPrefixDir(dir: string, layout: LayoutKind | undefined): Promise<string> {
  const abs = path.resolve(dir);
  const parent = await fsp.realpath(path.dirname(abs)).catch(() => path.dirname(abs));
  const joined = path.join(parent, path.basename(abs));
  if (layout === 'generations') return joined;
  const st = await fsp.lstat(joined).catch(() => undefined);
  if (st?.isSymbolicLink() && (await detectPrefix(joined))?.record.layout === 'generations') return joined;
  return fsp.realpath(joined).catch(() => joined);
}

export interface OpenedPrefix {
  paths: PrefixPaths;
  record: PrefixRecord;
  lock: HeldLock;
  /** this call wrote prefix.json: a failed first transaction removes the prefix state again */
  created: boolean;
  /** the top-most directory this call created (DIR or one of its parents), if any */
  createdTop: string | undefined;
}

export function notManaged(dir: string): PstoreError {
  return new PstoreError('EPSTORE_NOT_FOUND', `${dir} is not a prefix managed by pstore`, { subject: dir });
}

/** Take the prefix's writer lock, creating the prefix if `create` (with `layout`, default inplace). */
export async function openPrefixForWrite(
  dir: string,
  opts: { storeRoot: string; layout?: LayoutKind | undefined; create: boolean; waitMs: number; onWait?: (() => void) | undefined },
): Promise<OpenedPrefix> {
  const abs = await canonicalPrefixDir(dir, opts.layout);
  const found = await detectPrefix(abs);
  const layout = found?.record.layout ?? opts.layout ?? 'inplace';
  if (found && opts.layout && opts.layout !== found.record.layout) {
    throw new PstoreError('EPSTORE_USAGE', `${abs} uses the ${found.record.layout} layout, not ${opts.layout}`, { subject: '--layout' });
  }
  if (!found && !opts.create) throw notManaged(abs);
  const paths = prefixPaths(abs, layout);
  await refuseOverlap(paths, opts.storeRoot); // before anything is created
  const createdTop = found ? undefined : await prepareNewPrefix(paths);
  const lock = await acquireLock(paths.lock, { mode: 'exclusive', waitMs: opts.waitMs, what: `prefix ${abs}`, onWait: opts.onWait });
  try {
    await sweepStateTemps(paths);
    let record = (await detectPrefix(abs))?.record;
    const created = record === undefined;
    if (!record) {
      record = { formatVersion: 1, layout, store: opts.storeRoot, createdAt: new Date().toISOString() };
      await writeJson(paths.prefixFile, record);
    }
    if (!(await sameDir(record.store, opts.storeRoot))) {
      throw new PstoreError('EPSTORE_CONFLICT', `${abs} is managed with the store ${record.store}, not ${opts.storeRoot}`, { subject: abs });
    }
    return { paths, record, lock, created, createdTop: created ? createdTop : undefined };
  } catch (err) {
    await lock.release();
    throw err;
  }
}

/** State files are written (tmp + rename) only under the writer lock: a temp seen now is a crash's. */
async function sweepStateTemps(paths: PrefixPaths): Promise<void> {
  const names = await fsp.readdir(paths.meta).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => n.startsWith('.pstore-tmp-')).map((n) => fsp.rm(path.join(paths.meta, n), { force: true })));
}

async function sameDir(a: string, b: string): Promise<boolean> {
  const real = (p: string) => fsp.realpath(p).catch(() => path.resolve(p));
  return (await real(a)) === (await real(b));
}

/** Make the directories a new prefix needs; returns the top-most directory it made, if any. */
async function prepareNewPrefix(paths: PrefixPaths): Promise<string | undefined> {
  let made: string | undefined;
  if (paths.layout === 'inplace') {
    made = await fsp.mkdir(paths.dir, { recursive: true });
  } else {
    const st = await fsp.lstat(paths.dir).catch((err: unknown) => {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    });
    if (st) {
      throw new PstoreError('EPSTORE_CONFLICT', `${paths.dir} exists; a generations prefix must be created where nothing is (pstore makes it a symlink)`, { subject: paths.dir });
    }
    made = await fsp.mkdir(path.dirname(paths.dir), { recursive: true });
  }
  await fsp.mkdir(paths.meta, { recursive: true });
  return made;
}

/**
 * Undo the creation of a prefix whose first transaction failed, while still holding its lock:
 * the state directory goes, and the prefix directory too if this call made it and it is empty.
 */
export async function discardNewPrefix(opened: OpenedPrefix): Promise<void> {
  if (!opened.created) return;
  await fsp.rm(opened.paths.meta, { recursive: true, force: true });
  const top = opened.createdTop;
  if (top === undefined) return;
  // Remove the directories this call made, innermost first, each only if empty.
  let dir = opened.paths.layout === 'inplace' ? opened.paths.dir : path.dirname(opened.paths.dir);
  for (;;) {
    if (await fsp.rmdir(dir).then(() => false, () => true)) return;
    if (dir === top || path.dirname(dir) === dir) return;
    dir = path.dirname(dir);
  }
}
