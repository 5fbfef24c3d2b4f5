// Node's stream and file-handle writes fail with errno errors that name no file (ENOSPC from
// write(2) has no path). The boundary (api/boundary.ts) names the error's path to the user, so
// code that knows which file it was writing adds it here.

import { errnoCode } from '../core/errors.js';

/** `err` with `path` set to `file` when it is an errno error that names no file yet. */
export function withPath(err: unknown, file: string): unknown {
  if (errnoCode(err) === undefined || typeof err !== 'object' || err === null) return err;
  const e = err as { path?: unknown };
  if (typeof e.path !== 'string') e.path = file;
  return err;
}
