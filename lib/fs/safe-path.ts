// Fail-closed path policy (SPEC.md §Path policy), after node-tar's: a member path is relative, has
// no `..`, no NUL, stays within a depth and length cap, and is normalized (`./` and empty parts
// dropped). pstore never clamps a bad path into a good one: it refuses it.

import { PstoreError } from '../errors.js';

export const MAX_PATH_BYTES = 4096;
export const MAX_DEPTH = 256;

/**
 * Normalize an archive or tree member path to `a/b/c` form. Returns '' for the root itself.
 * Throws EPSTORE_UNSAFE_PATH naming the member for anything that could land outside the root.
 */
export function normalizeMemberPath(raw: string): string {
  if (raw.includes('\0')) throw unsafe(raw, 'contains a NUL byte');
  if (raw.startsWith('/')) throw unsafe(raw, 'is absolute');
  if (/^[A-Za-z]:[\\/]/.test(raw)) throw unsafe(raw, 'is a drive-absolute path');
  const parts: string[] = [];
  for (const part of raw.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw unsafe(raw, 'has a `..` component');
    parts.push(part);
  }
  if (parts.length > MAX_DEPTH) throw unsafe(raw, `is deeper than ${MAX_DEPTH} levels`);
  const out = parts.join('/');
  if (Buffer.byteLength(out) > MAX_PATH_BYTES) throw unsafe(raw, `is longer than ${MAX_PATH_BYTES} bytes`);
  return out;
}

export function unsafe(subject: string, why: string): PstoreError {
  return new PstoreError('EPSTORE_UNSAFE_PATH', `unsafe path ${JSON.stringify(subject)}: ${why}`, { subject });
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
