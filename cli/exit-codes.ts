// The one table from error code to process exit code. The library knows codes only; these numbers
// are the CLI's contract with scripts (documented in pstore --help and SPEC.md §Exit codes).

import type { ErrorCode } from '../lib/errors.js';

export const EXIT_CODES: Record<ErrorCode, number> = {
  EPSTORE_INTERNAL: 1,
  EPSTORE_USAGE: 2,
  EPSTORE_CONFLICT: 3,
  EPSTORE_INTEGRITY: 4,
  EPSTORE_BUSY: 5,
  EPSTORE_NOT_FOUND: 6,
  EPSTORE_UNSAFE_PATH: 7,
  EPSTORE_BAD_ARCHIVE: 7,
  EPSTORE_UNSUPPORTED_TYPE: 7,
  EPSTORE_INVALID: 7,
  EPSTORE_AMBIGUOUS: 7,
  EPSTORE_REMOTE: 8,
  EPSTORE_NO_SPACE: 9,
  EPSTORE_PERMISSION: 9,
  EPSTORE_IO: 9,
  // as a shell reports a command stopped by SIGINT (128 + 2): the operation was cancelled
  EPSTORE_ABORTED: 130,
};

export function exitCodeOf(code: ErrorCode): number {
  return EXIT_CODES[code];
}
