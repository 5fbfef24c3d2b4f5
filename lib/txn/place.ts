// Creating things in a prefix during apply (SPEC.md §Step order, step b and e), synchronously: one
// loop over the plan, no per-file promise, and no lstat of a path the plan says is new (link() and
// symlink() fail with EEXIST when it is not, and only then is the path looked at).

import fs from 'node:fs';
import path from 'node:path';
import { crashpoint } from '../core/crashpoint.js';
import { errnoCode } from '../core/errors.js';
import { tempPath } from '../fs/atomic.js';
import type { DirtyDirs } from '../fs/flush.js';
import type { ManifestFile, ProgressListener } from '../core/types.js';
import { fileObjectPath, type StoreLayout } from '../store/layout.js';
import { isLinkFallback, type Linker } from './link.js';
import type { MarkerUnit, PlacedFile, Plan } from './plan.js';

export interface PlaceContext {
  store: StoreLayout;
  root: string;
  linker: Linker;
  txid: string;
  /** every directory whose entries this phase changed, for its flush */
  dirty: DirtyDirs;
}

/** A fresh temp name in `dir` tagged with the transaction; random, since a retry after a crash
 * (another process, same txid) must not meet the name the crashed attempt left. */
export function tempName(ctx: PlaceContext, dir: string, kind: 'tmp' | 'trash'): string {
  return tempPath(dir, kind, ctx.txid, Math.random().toString(36).slice(2, 10));
}

/** What a placed name is made from: a symlink's target, or the path of a store object to link. */
export type Source = { symlink: string } | { object: string };

/** `f`'s source; `src`: its object's path as the object check worked it out, else derived here. */
export function sourceOf(ctx: PlaceContext, f: PlacedFile, src?: string): Source {
  return f.type === 'symlink'
    ? { symlink: f.target }
    : { object: src ?? fileObjectPath(ctx.store, f) };
}

/** Create `dest` (absent) from `from`. */
function createFrom(ctx: PlaceContext, from: Source, dest: string): void {
  if ('symlink' in from) fs.symlinkSync(from.symlink, dest);
  // a copy or a reflink is new data: the phase's flush must cover file contents too
  else if (ctx.linker.link(from.object, dest) !== 'hardlink') ctx.dirty.wroteData();
}

/**
 * Put `f` at its path: straight to the final name when that is atomic and free, else temp + rename.
 * `src`: the object's path as the object check worked it out (plan.objectPaths), else computed here.
 */
export function placeFile(ctx: PlaceContext, f: PlacedFile, replace: boolean, src?: string): void {
  placeAt(ctx, f.path, sourceOf(ctx, f, src), replace);
}

/** {@link placeFile} of the name `rel` (relative to the root), made from `from`. */
export function placeAt(ctx: PlaceContext, rel: string, from: Source, replace: boolean): void {
  const dest = `${ctx.root}/${rel}`;
  ctx.dirty.touched(dest);
  if (!replace && ('symlink' in from || ctx.linker.atomicCreate)) {
    try {
      // Only link() and symlink() may create a final name: each publishes a whole file at once.
      if ('symlink' in from) fs.symlinkSync(from.symlink, dest);
      else fs.linkSync(from.object, dest);
      return;
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') {
        if (alreadyPlaced(from, dest)) return;
      } else if (!isLinkFallback(err)) {
        throw err;
      }
    }
  }
  const tmp = tempName(ctx, path.dirname(dest), 'tmp');
  createFrom(ctx, from, tmp);
  try {
    fs.renameSync(tmp, dest);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

const PROGRESS_EVERY = 500;

/** How a run of {@link placeRange} shares the work with another thread, if it does. */
export interface RangeOptions {
  onProgress?: ProgressListener | undefined;
  /** true once the other thread failed: place nothing more (its failure is what is thrown) */
  stopped?: () => boolean;
  /** files the other thread placed so far, for progress */
  elsewhere?: () => number;
}

/** plan.place[from, end) in order, crash point `apply:file` before each, progress every 500. */
export function placeRange(
  ctx: PlaceContext,
  plan: Plan,
  from: number,
  end: number,
  { onProgress, stopped, elsewhere }: RangeOptions = {},
): void {
  const total = plan.place.length;
  for (let i = from; i < end; i++) {
    if (stopped?.()) return;
    crashpoint('apply:file');
    const { file, replace } = plan.place[i]!;
    placeFile(ctx, file, replace, plan.objectPaths?.[i]);
    if ((i + 1) % PROGRESS_EVERY === 0) {
      const done = Math.min(total, i + 1 + (elsewhere?.() ?? 0));
      onProgress?.({ phase: 'link', unit: 'files', done, total });
    }
  }
}

/** After a crash, a path may already hold exactly what the plan wants (same inode as the object). */
function alreadyPlaced(from: Source, dest: string): boolean {
  const st = fs.lstatSync(dest, { throwIfNoEntry: false });
  if (!st) return false;
  if ('symlink' in from) return st.isSymbolicLink() && fs.readlinkSync(dest) === from.symlink;
  const obj = fs.statSync(from.object, { throwIfNoEntry: false });
  return obj !== undefined && st.isFile() && st.ino === obj.ino && st.dev === obj.dev;
}

/** mkdir that never fails because the directory exists, and never accepts a symlink in its place. */
export function ensureDir(abs: string): boolean {
  try {
    fs.mkdirSync(abs);
    return true;
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
    if (!fs.lstatSync(abs).isDirectory())
      throw Object.assign(new Error(`${abs} exists and is not a directory`), {
        code: 'ENOTDIR',
        path: abs,
      });
    return false;
  }
}

/** Create directories (sorted, so parents come first); returns those this call created. */
export function makeDirs(ctx: PlaceContext, dirs: readonly string[]): Set<string> {
  const created = new Set<string>();
  for (const d of [...dirs].sort()) {
    const abs = `${ctx.root}/${d}`;
    ctx.dirty.touched(abs); // even when it exists: a crashed attempt may have made it unflushed
    if (ensureDir(abs)) created.add(d);
  }
  return created;
}

/** Build a marker unit under a temp name beside it, then rename it into place whole. */
export function placeMarkerUnit(
  ctx: PlaceContext,
  unit: MarkerUnit,
  removeWhole: (abs: string) => void,
): void {
  const dest = path.join(ctx.root, unit.path);
  const tmp = tempName(ctx, path.dirname(dest), 'tmp');
  const [head, ...rest] = unit.files;
  if (!head) return;
  const make = (f: ManifestFile, at: string) => {
    if (f.type === 'dir') fs.mkdirSync(at);
    else createFrom(ctx, sourceOf(ctx, f), at);
    ctx.dirty.touched(at);
  };
  make(head, tmp);
  for (const f of rest) make(f, path.join(tmp, f.path.slice(unit.path.length + 1)));
  // A unit left by an interrupted attempt is complete (it arrived by rename); replace it whole.
  if (fs.lstatSync(dest, { throwIfNoEntry: false })?.isDirectory()) removeWhole(dest);
  fs.renameSync(tmp, dest);
}
