// Why an index failed, decided from facts rather than LevelDB's message text (SPEC.md §Index).
// LevelDB reports every filesystem refusal as LEVEL_IO_ERROR with the errno only in its message,
// so when it fails pstore asks the filesystem itself: a small probe write beside the index either
// fails with the real errno (the environment refuses: full, read-only, not ours, failing) or
// succeeds (then the index itself is broken, and being a cache it is set aside and rebuilt).

import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { errnoCode } from '../core/errors.js';
import { tmpName } from '../fs/atomic.js';

/** errno codes by which the environment refuses a write (mapped at the boundary, errors.ts) */
const REFUSALS = new Set(['ENOSPC', 'EDQUOT', 'EACCES', 'EPERM', 'EROFS', 'EIO']);

export function isRefusal(err: unknown): boolean {
  return REFUSALS.has(errnoCode(err) ?? '');
}

/** LevelDB's own error codes (abstract-level), on the error and on its cause. */
function levelCodes(err: unknown): string[] {
  return [err, (err as { cause?: unknown })?.cause]
    .map(errnoCode)
    .filter((c): c is string => c?.startsWith('LEVEL_') === true);
}

export function isLevelError(err: unknown): boolean {
  return levelCodes(err).length > 0;
}

export function isLocked(err: unknown): boolean {
  return levelCodes(err).includes('LEVEL_LOCKED');
}

/** Reading or writing the index's files failed (not a misuse of the handle, which is a bug). */
export function isIndexFailure(err: unknown): boolean {
  return levelCodes(err).some((c) => c === 'LEVEL_CORRUPTION' || c === 'LEVEL_IO_ERROR');
}

// Big enough that a filesystem with a few blocks left (less than LevelDB needs to open) refuses it.
const PROBE_BYTES = 256 * 1024;

/**
 * Write, flush and remove a probe file in `dir`. Returns the error by which the filesystem refuses
 * (an errno error naming `subject`), or undefined when `dir` can be written.
 */
export async function probeWritable(
  dir: string,
  subject: string,
): Promise<NodeJS.ErrnoException | undefined> {
  const probe = tmpName(dir, 'probe');
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(probe, 'wx');
    await fh.writeFile(Buffer.alloc(PROBE_BYTES));
    await fh.sync();
    return undefined;
  } catch (err) {
    if (!isRefusal(err)) return undefined;
    return refusalAt(err, subject);
  } finally {
    await fh?.close().catch(() => {});
    await fsp.rm(probe, { force: true }).catch(() => {});
  }
}

/** The same refusal, naming the path the user should look at. */
function refusalAt(err: unknown, subject: string): NodeJS.ErrnoException {
  const code = errnoCode(err)!;
  return Object.assign(new Error(`${subject}: ${code}`), { code, path: subject, cause: err });
}

export const BROKEN_SUFFIX = '.broken-';

/**
 * Move an index that cannot be used out of the way (gc deletes these later). Returns a refusal if
 * the store may not be changed; ENOENT means another process moved it first, which is as good.
 */
export async function setAside(index: string): Promise<NodeJS.ErrnoException | undefined> {
  const stamp = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  try {
    await fsp.rename(index, `${index}${BROKEN_SUFFIX}${stamp}`);
    return undefined;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    if (isRefusal(err)) return refusalAt(err, index);
    throw err;
  }
}
