// Whether a path is there, in the two senses pstore needs; one home instead of a helper per module.

import { lstatSync, promises as fsp, realpathSync, statSync, type Stats } from 'node:fs';
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

// Synchronous lookups, each undefined (or the path itself) on any error: for the few state lookups
// of a waiting writer or of `status`, which then never start libuv's thread pool (the CLI sizes it
// to 16 threads, whose creation costs a short command ~2-3 ms) nor load fs/promises.

/** stat(2) of `p`, or undefined. */
export function statOrUndefined(p: string): Stats | undefined {
  try {
    return statSync(p, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/** lstat(2) of `p`, or undefined. */
export function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/** realpath(3) of `p`, or `p` itself when it cannot be resolved. */
export function realpathOrSelf(p: string): string {
  try {
    return realpathSync.native(p);
  } catch {
    return p;
  }
}
