// Apply a plan to an `inplace` prefix (SPEC.md §Step order). Every step converges ("make it so")
// rather than transitions, so running the same plan again after a crash, from any mix of the old
// and new trees, is safe: that is what recovery does.
//   (a) remove touched marker units (rename aside, then delete) and stale .pyc of changing modules
//   (b) clear type-changing paths, mkdir -p new dirs, place files: new names by link() or
//       symlink() straight to the final name, replaced names via a temp name + rename()
//   (c) remove files no package owns, their .pyc, and directories left empty
//   (d) one filesystem flush
//   (e) place marker units, each built whole under a temp name and renamed into place
//   (f) one more flush; the caller then commits the generation

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import pMap from 'p-map';
import { errnoCode } from '../core/errors.js';
import { syncFilesystem, tempPath } from '../fs/atomic.js';
import { groupBy } from '../core/group-by.js';
import { fileObjectPath, type StoreLayout } from '../store/layout.js';
import { crashpoint, pausepoint, unsafeMarkersFirst } from '../core/crashpoint.js';
import type { ManifestFile, ProgressListener, ProgressPhase } from '../core/types.js';
import { isLinkFallback, type Linker } from './link.js';
import type { Plan, PlacedFile } from './plan.js';

const CONCURRENCY = 32;

export interface ApplyContext {
  store: StoreLayout;
  root: string;
  linker: Linker;
  txid: string;
  onProgress?: ProgressListener | undefined;
}

export function tempName(ctx: ApplyContext, dir: string, kind: 'tmp' | 'trash'): string {
  return tempPath(dir, kind, ctx.txid, Math.random().toString(36).slice(2, 10));
}

export function objectOf(store: StoreLayout, f: Extract<ManifestFile, { type: 'file' }>): string {
  return fileObjectPath(store, f);
}

/** Create `dest` (absent) as the given file or symlink. */
export async function createAt(ctx: ApplyContext, f: PlacedFile, dest: string): Promise<void> {
  if (f.type === 'symlink') await fsp.symlink(f.target, dest);
  else await ctx.linker.link(objectOf(ctx.store, f), dest);
}

/** Put `f` at `rel`: straight to the final name when that is atomic and free, else temp + rename. */
export async function placeFile(ctx: ApplyContext, f: PlacedFile, replace: boolean): Promise<void> {
  const dest = path.join(ctx.root, f.path);
  const direct = !replace && (f.type === 'symlink' || ctx.linker.atomicCreate);
  if (direct) {
    try {
      // Only link() and symlink() may create a final name: each publishes a whole file at once.
      if (f.type === 'symlink') await fsp.symlink(f.target, dest);
      else await fsp.link(objectOf(ctx.store, f), dest);
      return;
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') {
        if (await alreadyPlaced(ctx, f, dest)) return;
      } else if (!isLinkFallback(err)) {
        throw err;
      }
    }
  }
  const tmp = tempName(ctx, path.dirname(dest), 'tmp');
  await createAt(ctx, f, tmp);
  try {
    await fsp.rename(tmp, dest);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}

/** After a crash, a path may already hold exactly what the plan wants (same inode as the object). */
async function alreadyPlaced(ctx: ApplyContext, f: PlacedFile, dest: string): Promise<boolean> {
  const st = await fsp.lstat(dest).catch(() => undefined);
  if (!st) return false;
  if (f.type === 'symlink') return st.isSymbolicLink() && (await fsp.readlink(dest)) === f.target;
  const obj = await fsp.stat(objectOf(ctx.store, f)).catch(() => undefined);
  return obj !== undefined && st.isFile() && st.ino === obj.ino && st.dev === obj.dev;
}

/** Make `abs` disappear in one step (rename aside), then delete it at leisure. */
export async function removeAtomically(ctx: ApplyContext, abs: string): Promise<void> {
  const trash = tempName(ctx, path.dirname(abs), 'trash');
  try {
    await fsp.rename(abs, trash);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw err;
  }
  await fsp.rm(trash, { recursive: true, force: true });
}

async function removePycache(ctx: ApplyContext, modules: readonly string[]): Promise<void> {
  const byDir = groupBy(modules, (m) => path.join(ctx.root, path.dirname(m), '__pycache__'));
  await pMap(
    byDir,
    async ([dir, mods]) => {
      const stems = mods.map((m) => `${path.basename(m, '.py')}.`);
      if (!(await isRealDir(dir))) return; // absent, or a symlink someone made: never followed
      let names: string[];
      try {
        names = await fsp.readdir(dir);
      } catch {
        return;
      }
      const doomed = names.filter((n) => n.endsWith('.pyc') && stems.some((s) => n.startsWith(s)));
      await Promise.all(doomed.map((n) => fsp.rm(path.join(dir, n), { force: true })));
    },
    { concurrency: CONCURRENCY },
  );
}

/** Create directories, parents first; returns those this call created. */
async function makeDirs(ctx: ApplyContext, dirs: readonly string[]): Promise<Set<string>> {
  const created = new Set<string>();
  // One depth level at a time, each level in parallel.
  const byDepth = groupBy(dirs, (d) => d.split('/').length);
  for (const depth of [...byDepth.keys()].sort((a, b) => a - b)) {
    await pMap(
      byDepth.get(depth)!,
      async (d) => {
        if (await ensureDir(path.join(ctx.root, d))) created.add(d);
      },
      { concurrency: CONCURRENCY },
    );
  }
  return created;
}

/** mkdir that never fails because the directory exists, and never accepts a symlink in its place. */
export async function ensureDir(abs: string): Promise<boolean> {
  try {
    await fsp.mkdir(abs);
    return true;
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
    const st = await fsp.lstat(abs);
    if (!st.isDirectory())
      throw Object.assign(new Error(`${abs} exists and is not a directory`), { code: 'ENOTDIR' });
    return false;
  }
}

async function clearObstacle(
  ctx: ApplyContext,
  rel: string,
  wanted: ManifestFile['type'],
): Promise<void> {
  const abs = path.join(ctx.root, rel);
  const st = await fsp.lstat(abs).catch(() => undefined);
  if (!st) return;
  const is: ManifestFile['type'] = st.isDirectory()
    ? 'dir'
    : st.isSymbolicLink()
      ? 'symlink'
      : 'file';
  if (is !== wanted) await removeAtomically(ctx, abs);
}

/** Unlink a file or symlink; already gone (or its directory replaced by a file) is fine. */
async function removeIfPresent(abs: string): Promise<void> {
  try {
    await fsp.unlink(abs);
  } catch (err) {
    const code = errnoCode(err);
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
  }
}

async function isRealDir(abs: string): Promise<boolean> {
  return (await fsp.lstat(abs).catch(() => undefined))?.isDirectory() ?? false;
}

async function removeDirIfEmpty(abs: string): Promise<void> {
  if (!(await isRealDir(abs))) return;
  // A directory pstore empties may still hold the __pycache__ Python made for its modules.
  const cache = path.join(abs, '__pycache__');
  if (await isRealDir(cache)) await fsp.rmdir(cache).catch(() => {});
  await fsp.rmdir(abs).catch(() => {});
}

/** Build a marker unit under a temp name beside it, then rename it into place. */
async function placeMarkerUnit(
  ctx: ApplyContext,
  unit: Plan['placeMarkers'][number],
): Promise<void> {
  const dest = path.join(ctx.root, unit.path);
  const tmp = tempName(ctx, path.dirname(dest), 'tmp');
  const [head, ...rest] = unit.files;
  if (!head) return;
  if (head.type === 'dir') await fsp.mkdir(tmp);
  else await createAt(ctx, head, tmp);
  for (const f of rest) {
    const inside = path.join(tmp, f.path.slice(unit.path.length + 1));
    if (f.type === 'dir') await fsp.mkdir(inside);
    else await createAt(ctx, f, inside);
  }
  // A unit left by an interrupted attempt is complete (it arrived by rename); replace it whole.
  const st = await fsp.lstat(dest).catch(() => undefined);
  if (st?.isDirectory()) await removeAtomically(ctx, dest);
  await fsp.rename(tmp, dest);
}

export async function applyInplace(ctx: ApplyContext, plan: Plan): Promise<void> {
  const progress = (phase: ProgressPhase, done: number, total: number) =>
    ctx.onProgress?.({ phase, done, total });
  if (unsafeMarkersFirst) for (const unit of plan.placeMarkers) await placeMarkerUnit(ctx, unit);
  // (a)
  for (const unit of plan.removeMarkers) await removeAtomically(ctx, path.join(ctx.root, unit));
  await removePycache(ctx, plan.pycacheFor);
  crashpoint('apply:after-remove-markers');
  // (b)
  const wanted = new Map(plan.place.map((p) => [p.file.path, p.file.type] as const));
  for (const rel of plan.obstacles) await clearObstacle(ctx, rel, wanted.get(rel) ?? 'dir');
  const created = await makeDirs(ctx, plan.mkdirs);
  // A __pycache__ left beside an arriving module (by an importer that raced an earlier removal)
  // must not outlive its source; a directory made just now cannot hold one.
  await removePycache(
    ctx,
    plan.newModules.filter(
      (m) => !created.has(m.includes('/') ? m.slice(0, m.lastIndexOf('/')) : ''),
    ),
  );
  let done = 0;
  await pMap(
    plan.place,
    async ({ file, replace }) => {
      crashpoint('apply:file');
      await placeFile(ctx, file, replace);
      if (++done % 500 === 0) progress('link', done, plan.place.length);
    },
    { concurrency: CONCURRENCY },
  );
  crashpoint('apply:after-files');
  await pausepoint('apply:after-files');
  // (c)
  await pMap(plan.remove, (rel) => removeIfPresent(path.join(ctx.root, rel)), {
    concurrency: CONCURRENCY,
  });
  await removePycache(ctx, plan.pycacheFor);
  for (const rel of plan.rmdirs) await removeDirIfEmpty(path.join(ctx.root, rel));
  crashpoint('apply:after-removals');
  // (d)
  await syncFilesystem(ctx.root);
  // (e)
  for (const unit of plan.placeMarkers) {
    await placeMarkerUnit(ctx, unit);
    crashpoint('apply:marker');
  }
  // (f)
  await syncFilesystem(ctx.root);
  crashpoint('apply:after-markers');
}
