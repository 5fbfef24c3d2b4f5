// RECORD, both ways (SPEC.md §Wheels): the wheel's RECORD checked against every member before
// anything is stored, and the installed RECORD written for the paths as laid out in the prefix.

import { hash } from 'node:crypto';
import path from 'node:path';
import { PstoreError } from '../../core/errors.js';
import { csvLine, parseRecord } from './metadata.js';
import type { WheelParts } from './structure.js';

/** Hashes the wheel spec allows in RECORD (md5 and sha1 are forbidden). */
const RECORD_HASHES = new Set([
  'sha256',
  'sha384',
  'sha512',
  'sha3_256',
  'sha3_384',
  'sha3_512',
  'blake2b',
]);

/** RECORD and its signatures list everything but themselves. */
function isRecordItself(parts: WheelParts, p: string): boolean {
  return ['RECORD', 'RECORD.jws', 'RECORD.p7s'].some((n) => p === `${parts.distInfo}/${n}`);
}

/** Every member listed with its hash and size, every listed path present: else EPSTORE_INTEGRITY. */
export function checkRecord(file: string, parts: WheelParts): void {
  const record = parts.members.get(`${parts.distInfo}/RECORD`)!.data.toString('utf8');
  const listed = new Map<string, { hash: string; size: string }>();
  for (const row of parseRecord(record)) listed.set(row.path, row);
  for (const [p, member] of parts.members) {
    if (isRecordItself(parts, p)) continue;
    const row = listed.get(p);
    if (!row) throw integrity(file, p, "is not listed in the wheel's RECORD");
    listed.delete(p);
    const [alg = '', digest = ''] = row.hash.split('=', 2);
    if (!RECORD_HASHES.has(alg))
      throw integrity(file, p, `has no usable hash in RECORD (${JSON.stringify(row.hash)})`);
    const actual = digestOf(alg, member.data);
    if (actual !== digest.replace(/=+$/, ''))
      throw integrity(file, p, `does not match its ${alg} in RECORD`);
    if (row.size !== '' && Number(row.size) !== member.data.length)
      throw integrity(file, p, `is ${member.data.length} bytes, RECORD says ${row.size}`);
  }
  for (const p of listed.keys()) {
    if (p.endsWith('/') || isRecordItself(parts, p)) continue;
    throw integrity(file, p, 'is listed in RECORD but not in the wheel');
  }
}

/**
 * The urlsafe base64 digest of `data`, computed once per buffer and algorithm: the installed
 * RECORD reuses the sha256 the wheel's RECORD check made of every member it does not rewrite.
 */
function digestOf(alg: string, data: Buffer): string {
  const known = digests.get(data);
  const hit = known?.get(alg);
  if (hit !== undefined) return hit;
  // One-shot: no Hash object per member (a wheel has hundreds).
  const digest = hash(nodeHashName(alg), data, 'base64url');
  if (known) known.set(alg, digest);
  else digests.set(data, new Map([[alg, digest]]));
  return digest;
}

const digests = new WeakMap<Buffer, Map<string, string>>();

/** Python's hashlib names → Node's (`sha3_256` → `sha3-256`, `blake2b` → `blake2b512`). */
function nodeHashName(alg: string): string {
  return alg === 'blake2b' ? 'blake2b512' : alg.replace('_', '-');
}

function integrity(file: string, member: string, why: string): PstoreError {
  return new PstoreError('EPSTORE_INTEGRITY', `${file}: ${member} ${why}`, { subject: member });
}

/** An installed file: its prefix-relative path and bytes. */
export interface PlacedFile {
  path: string;
  data: Buffer;
  exec: boolean;
}

/**
 * The installed RECORD: every file with its sha256 and size, paths relative to the directory that
 * holds the .dist-info (`../../../bin/x` for other scheme keys), sorted, RECORD itself last and
 * without hash, as installers write it.
 */
export function installedRecord(files: readonly PlacedFile[], recordPath: string): Buffer {
  const base = path.posix.dirname(path.posix.dirname(recordPath));
  const rows = files
    .map((f) => ({ rel: relativeTo(base, f.path), f }))
    .sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0))
    .map(({ rel, f }) =>
      csvLine([rel, `sha256=${digestOf('sha256', f.data)}`, String(f.data.length)]),
    );
  rows.push(csvLine([relativeTo(base, recordPath), '', '']));
  return Buffer.from(rows.join(''));
}

/** `p` relative to the directory `base` (both prefix-relative); a path inside it is cut, not resolved. */
function relativeTo(base: string, p: string): string {
  if (base === '.') return p; // the .dist-info is at the prefix root
  if (p.startsWith(`${base}/`)) return p.slice(base.length + 1);
  // path.posix.relative resolves both sides against one cwd, so relative paths compare as they are.
  return path.posix.relative(base, p);
}
