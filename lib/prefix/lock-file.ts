// Where an existing prefix's writer lock file is, found from the names alone (SPEC.md §Group
// commit, the waiter's shortcut): no state file is read, so finding it loads no schema library.

import path from 'node:path';
import type { LayoutKind } from '../core/names.js';
import { realpathOrSelf, statOrUndefined } from '../fs/exists.js';
import { prefixPaths } from './layout.js';

// Synchronous, as the names are few (fs/exists.ts says why).
const isFile = (file: string) => statOrUndefined(file)?.isFile() ?? false;

/**
 * `abs` with its parent directory's symlinks resolved and its own name kept: a generations prefix
 * is a symlink whose state lives beside it, so the name itself is resolved only for inplace.
 */
export async function underRealParent(abs: string): Promise<string> {
  return path.join(realpathOrSelf(path.dirname(abs)), path.basename(abs));
}

/**
 * The lock file of the prefix at `dir` by its names: DIR/.pstore/lock (inplace, DIR resolved as
 * canonicalPrefixDir does) and PARENT/.pstore-BASE/lock (generations, DIR a symlink).
 */
async function lockCandidates(dir: string): Promise<{ inplace: string; generations: string }> {
  const joined = await underRealParent(path.resolve(dir));
  return {
    inplace: prefixPaths(realpathOrSelf(joined), 'inplace').lock,
    generations: prefixPaths(joined, 'generations').lock,
  };
}

/** The lock file of the prefix at `dir`, if one exists (inplace first, as lockCandidates). */
export async function existingPrefixLock(dir: string): Promise<string | undefined> {
  const { inplace, generations } = await lockCandidates(dir);
  if (isFile(inplace)) return inplace;
  return isFile(generations) ? generations : undefined;
}

/**
 * The lock file the prefix at `dir` has, or will have once a writer creates it with `layout`
 * (default inplace): what writers arriving together on a new prefix agree on.
 */
export async function prefixLockFor(dir: string, layout?: LayoutKind): Promise<string> {
  const found = await existingPrefixLock(dir);
  if (found) return found;
  const candidates = await lockCandidates(dir);
  return layout === 'generations' ? candidates.generations : candidates.inplace;
}
