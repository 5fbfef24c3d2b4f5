// Taking things out of a prefix during apply (SPEC.md §Step order, steps a and c), synchronously.
// Nothing here follows a symlink: a path that should be a directory is lstat'ed first.

import fs from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../core/errors.js';
import { groupBy } from '../core/group-by.js';
import type { ManifestFile } from '../core/types.js';
import { tempName, type PlaceContext } from './place.js';

/** Make `abs` disappear in one step (rename aside), then delete it at leisure. */
export function removeAtomically(ctx: PlaceContext, abs: string): void {
  const trash = tempName(ctx, path.dirname(abs), 'trash');
  ctx.dirty.touched(abs);
  try {
    fs.renameSync(abs, trash);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw err;
  }
  fs.rmSync(trash, { recursive: true, force: true });
}

function isRealDir(abs: string): boolean {
  return fs.lstatSync(abs, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

/** Remove the bytecode Python cached for `modules` (paths of .py files). */
/**
 * Remove the bytecode Python made for `modules`; a .pyc the new generation itself ships (a wheel
 * added with --compile) is a package file, not a cache, and stays.
 */
export function removePycache(
  ctx: PlaceContext,
  modules: readonly string[],
  owned: ReadonlyMap<string, unknown>,
): void {
  for (const [dir, mods] of groupBy(modules, (m) =>
    path.join(ctx.root, path.dirname(m), '__pycache__'),
  )) {
    if (!isRealDir(dir)) continue; // absent, or a symlink someone made: never followed
    const stems = mods.map((m) => `${path.basename(m, '.py')}.`);
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    const rel = path.relative(ctx.root, dir);
    for (const n of names)
      if (n.endsWith('.pyc') && stems.some((s) => n.startsWith(s)) && !owned.has(`${rel}/${n}`)) {
        fs.rmSync(path.join(dir, n), { force: true });
        ctx.dirty.touched(path.join(dir, n));
      }
  }
}

/** What stands at `rel` goes (atomically) when it is not of the type the plan places there. */
export function clearObstacle(ctx: PlaceContext, rel: string, wanted: ManifestFile['type']): void {
  const abs = path.join(ctx.root, rel);
  const st = fs.lstatSync(abs, { throwIfNoEntry: false });
  if (!st) return;
  const is = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'file';
  if (is !== wanted) removeAtomically(ctx, abs);
}

/** Unlink a file or symlink; already gone (or its directory replaced by a file) is fine. */
export function removeIfPresent(ctx: PlaceContext, abs: string): void {
  ctx.dirty.touched(abs);
  try {
    fs.unlinkSync(abs);
  } catch (err) {
    const code = errnoCode(err);
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
  }
}

export function removeDirIfEmpty(ctx: PlaceContext, abs: string): void {
  ctx.dirty.touched(abs); // even when gone: a crashed attempt may have removed it unflushed
  if (!isRealDir(abs)) return;
  // A directory pstore empties may still hold the __pycache__ Python made for its modules.
  const cache = path.join(abs, '__pycache__');
  if (isRealDir(cache)) {
    ctx.dirty.touched(cache);
    ignoreError(() => fs.rmdirSync(cache));
  }
  ignoreError(() => fs.rmdirSync(abs));
}

function ignoreError(fn: () => void): void {
  try {
    fn();
  } catch {
    // not empty, or gone already: both fine here
  }
}
