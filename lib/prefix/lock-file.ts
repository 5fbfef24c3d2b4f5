// Where an existing prefix's writer lock file is, found from the names alone (SPEC.md §Group
// commit, the waiter's shortcut): no state file is read, so finding it loads no schema library.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { prefixPaths } from './layout.js';

const isFile = (file: string) =>
  fsp.stat(file).then(
    (st) => st.isFile(),
    () => false,
  );

/**
 * `abs` with its parent directory's symlinks resolved and its own name kept: a generations prefix
 * is a symlink whose state lives beside it, so the name itself is resolved only for inplace.
 */
export async function underRealParent(abs: string): Promise<string> {
  const parent = await fsp.realpath(path.dirname(abs)).catch(() => path.dirname(abs));
  return path.join(parent, path.basename(abs));
}

/**
 * The lock file of the prefix at `dir`, if one exists: DIR/.pstore/lock (inplace, DIR resolved as
 * canonicalPrefixDir does), else PARENT/.pstore-BASE/lock (generations, DIR a symlink).
 */
export async function existingPrefixLock(dir: string): Promise<string | undefined> {
  const joined = await underRealParent(path.resolve(dir));
  const inplace = prefixPaths(await fsp.realpath(joined).catch(() => joined), 'inplace').lock;
  if (await isFile(inplace)) return inplace;
  const generations = prefixPaths(joined, 'generations').lock;
  return (await isFile(generations)) ? generations : undefined;
}
