// Fail-closed path policy (SPEC.md §Path policy), after node-tar's: a member path is relative, has
// no `..`, no NUL, stays within a depth and length cap, and is normalized (`./` and empty parts
// dropped). pstore never clamps a bad path into a good one: it refuses it.
// Names are text: node-tar and readdir decode bytes as UTF-8 and turn every invalid sequence into
// U+FFFD, so three names differing only in invalid bytes would become one. A name holding U+FFFD
// is therefore refused (a literal U+FFFD in valid UTF-8 too: the two cannot be told apart).
// Lengths follow Linux: no component over NAME_MAX (255 bytes), no path over PATH_MAX less its NUL.

import { PstoreError } from './errors.js';

/** PATH_MAX (4096) less the terminating NUL: the longest path a Linux system call accepts */
export const MAX_PATH_BYTES = 4095;
/** NAME_MAX: the longest single name every Linux filesystem holds */
export const MAX_NAME_BYTES = 255;
export const MAX_DEPTH = 256;
/** What a decoder makes of bytes that are not UTF-8. */
export const REPLACEMENT_CHAR = '\uFFFD';

/**
 * Normalize an archive or tree member path to `a/b/c` form. Returns '' for the root itself.
 * Throws EPSTORE_UNSAFE_PATH naming the member for anything that could land outside the root.
 */
export function normalizeMemberPath(raw: string): string {
  if (raw.includes('\0')) throw unsafe(raw, 'contains a NUL byte');
  if (raw.includes(REPLACEMENT_CHAR))
    throw unsafe(raw, 'is not valid UTF-8 (or contains U+FFFD); pstore stores names as UTF-8 text');
  if (raw.startsWith('/')) throw unsafe(raw, 'is absolute');
  if (/^[A-Za-z]:[\\/]/.test(raw)) throw unsafe(raw, 'is a drive-absolute path');
  const parts: string[] = [];
  for (const part of raw.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw unsafe(raw, 'has a `..` component');
    if (Buffer.byteLength(part) > MAX_NAME_BYTES)
      throw unsafe(
        raw,
        `has a name longer than ${MAX_NAME_BYTES} bytes, which no Linux filesystem can hold`,
      );
    parts.push(part);
  }
  if (parts.length > MAX_DEPTH) throw unsafe(raw, `is deeper than ${MAX_DEPTH} levels`);
  const out = parts.join('/');
  if (Buffer.byteLength(out) > MAX_PATH_BYTES)
    throw unsafe(raw, `is longer than ${MAX_PATH_BYTES} bytes`);
  return out;
}

export function unsafe(subject: string, why: string): PstoreError {
  return new PstoreError(
    'EPSTORE_UNSAFE_PATH',
    `unsafe path ${JSON.stringify(shortened(subject))}: ${why}`,
    { subject },
  );
}

/** A path short enough for a one-line message (the whole one stays in `subject`). */
export function shortened(p: string): string {
  return p.length <= 160 ? p : `${p.slice(0, 100)}…${p.slice(-50)} (${Buffer.byteLength(p)} bytes)`;
}

/** The directory holding a relative path: `a/b` for `a/b/c`, '' for a top-level name. */
export function parentOf(rel: string): string {
  const at = rel.lastIndexOf('/');
  return at < 0 ? '' : rel.slice(0, at);
}

/** Every proper ancestor of `a/b/c`: `a`, `a/b`. */
export function ancestors(p: string): string[] {
  const out: string[] = [];
  let i = p.indexOf('/');
  while (i !== -1) {
    out.push(p.slice(0, i));
    i = p.indexOf('/', i + 1);
  }
  return out;
}
