// Whether a path is there, in the two senses pstore needs; one home instead of a helper per module.

import { promises as fsp, statSync, type Stats } from 'node:fs';
import { errnoCode } from '../core/errors.js';

/**
 * Whether something (of any type, a symlink not followed) is at `p`. Only ENOENT and ENOTDIR mean
 * "absent": any other error (EACCES, EIO) is thrown, so a caller never mistakes it for absence.
 */
export async function pathExists(p: string): Promise<boolean> {
  try {
    await fsp.lstat(p);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return false;
    throw err;
  }
}

/** Whether `p` can be reached (access(2)); any error counts as no, for checks that only skip work. */
export async function isAccessible(p: string): Promise<boolean> {
  return fsp.access(p).then(
    () => true,
    () => false,
  );
}

/**
 * stat(2) of `p`, or undefined on any error, synchronously: for the few lookups of a waiting
 * writer, which then never starts the libuv thread pool (four threads) nor loads fs/promises.
 */
export function statOrUndefined(p: string): Stats | undefined {
  try {
    return statSync(p, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}
