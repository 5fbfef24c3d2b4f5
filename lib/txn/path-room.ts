// Refuse, before any change, a prefix path no Linux system call can name (SPEC.md §Path policy):
// an absolute path over PATH_MAX, with room for the temp names pstore makes beside a path
// (`.pstore-trash-<txid>-<r>`), or a name over NAME_MAX (an entry added before `add` refused
// those). Otherwise the link fails part-way with ENAMETOOLONG, a 4 KB internal error.

import path from 'node:path';
import { MAX_NAME_BYTES, MAX_PATH_BYTES, shortened } from '../core/safe-path.js';
import { PstoreError } from '../core/errors.js';

/** '/' + `.pstore-trash-` + 12 hex txid + '-' + up to 8 characters: the longest name pstore adds. */
export const TEMP_NAME_ROOM = 1 + 14 + 12 + 1 + 8;

// A UTF-16 unit is at most 3 UTF-8 bytes: a name needs more units than this to be too long, so
// only a path holding such a run of non-slashes is split and measured.
const LONG_RUN = Math.floor(MAX_NAME_BYTES / 3);

/**
 * Whether `rel` holds more than LONG_RUN non-slash units in a row: a scan from slash to slash, not
 * a regular expression, which tried a match at every position of every path (the hot path's
 * costliest check at 100k files).
 */
function hasLongRun(rel: string): boolean {
  if (rel.length <= LONG_RUN) return false;
  for (let start = 0; ;) {
    const slash = rel.indexOf('/', start);
    const end = slash < 0 ? rel.length : slash;
    if (end - start > LONG_RUN) return true;
    if (slash < 0) return false;
    start = slash + 1;
  }
}

export function refuseUnplaceable(
  root: string,
  rels: Iterable<string>,
  /** the root the user knows, named in the error (a generations prefix, not its next tree) */
  shown = root,
): void {
  const rootBytes = Buffer.byteLength(root);
  // the longest relative path (in UTF-16 units) that fits whatever its characters
  const surelyFits = Math.floor((MAX_PATH_BYTES - rootBytes - 1 - TEMP_NAME_ROOM) / 3);
  for (const rel of rels) {
    if (rel.length <= surelyFits && !hasLongRun(rel)) continue;
    const total = rootBytes + 1 + Buffer.byteLength(rel) + TEMP_NAME_ROOM;
    const longName = hasLongRun(rel)
      ? rel.split('/').find((part) => Buffer.byteLength(part) > MAX_NAME_BYTES)
      : undefined;
    if (total <= MAX_PATH_BYTES && longName === undefined) continue;
    const abs = path.join(shown, rel);
    const why =
      longName !== undefined
        ? `has a name longer than ${MAX_NAME_BYTES} bytes`
        : `would need ${total} bytes with pstore's temp names, over the ${MAX_PATH_BYTES} a Linux path may have; use a shorter prefix path`;
    throw new PstoreError('EPSTORE_UNSAFE_PATH', `${shortened(abs)} cannot be placed: it ${why}`, {
      subject: abs,
      data: { path: rel, bytes: total },
    });
  }
}
