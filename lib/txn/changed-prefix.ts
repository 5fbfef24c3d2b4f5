// What the apply meets when the prefix changed after the check (SPEC.md §Check): another process
// made a directory where a file goes, or a file where a directory goes. A system call then fails
// with EISDIR, ENOTDIR, ENOTEMPTY or EEXIST; that is a conflict at a path, not a bug in pstore, and
// is reported as one (exit 3), naming the path. The transaction is reverted (or left to recovery)
// as after any failure.

import path from 'node:path';
import { PstoreError, errnoCode, isPstoreError } from '../core/errors.js';

const CHANGED = new Set(['EISDIR', 'ENOTDIR', 'ENOTEMPTY', 'EEXIST']);

/** `err` as EPSTORE_CONFLICT when it says a path of the prefix `root` changed; else `err`. */
export function changedPrefixError(err: unknown, root: string): unknown {
  const code = errnoCode(err);
  if (code === undefined || !CHANGED.has(code) || isPstoreError(err)) return err;
  // a rename names its destination as `dest`, other calls their one path as `path`
  const { dest, path: at } = err as { dest?: unknown; path?: unknown };
  const subject = typeof dest === 'string' ? dest : typeof at === 'string' ? at : undefined;
  const rel = subject === undefined ? undefined : path.relative(root, subject);
  const inside = rel !== undefined && rel !== '' && !rel.startsWith('..');
  return new PstoreError(
    'EPSTORE_CONFLICT',
    `${subject ?? root}: changed in the prefix while the transaction applied (${code})`,
    {
      ...(subject === undefined ? {} : { subject }),
      hint: 'another process wrote into the prefix: remove what it put there; the next pstore command on the prefix completes or undoes the transaction',
      cause: err,
      ...(inside ? { data: { path: rel } } : {}),
    },
  );
}
