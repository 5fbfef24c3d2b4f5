// Canonical manifests and entry ids (SPEC.md §Manifest, §Entry id). The canonical form is UTF-8
// JSON with a fixed key order, no whitespace, files sorted by the UTF-8 bytes of their path, and
// markers sorted and de-duplicated. The id is the first 40 hex digits of the sha512 of those bytes,
// so the same content under the same name, version and markers has the same id on every machine.

import { createHash } from 'node:crypto';
import { PstoreError } from './errors.js';
import { normalizeMemberPath } from './safe-path.js';
import { TreeCollector } from './tree.js';
import type { Manifest, ManifestFile } from './types.js';

export const ENTRY_ID_LENGTH = 40;

export function comparePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function canonicalFile(f: ManifestFile): ManifestFile {
  switch (f.type) {
    case 'file':
      return { path: f.path, type: 'file', exec: f.exec, size: f.size, integrity: f.integrity };
    case 'dir':
      return { path: f.path, type: 'dir' };
    case 'symlink':
      return { path: f.path, type: 'symlink', target: f.target };
  }
}

/** Sort by UTF-8 bytes, converting each key once (not once per comparison: 100k paths). */
function sortByBytes<T>(items: readonly T[], keyOf: (t: T) => string): T[] {
  const keyed = items.map((item) => ({ item, bytes: Buffer.from(keyOf(item), 'utf8') }));
  keyed.sort((a, b) => Buffer.compare(a.bytes, b.bytes));
  return keyed.map((k) => k.item);
}

export function buildManifest(
  name: string,
  version: string,
  markers: readonly string[],
  files: readonly ManifestFile[],
): Manifest {
  const sortedMarkers = sortByBytes([...new Set(markers)], (m) => m);
  const sortedFiles = sortByBytes(files.map(canonicalFile), (f) => f.path);
  return { formatVersion: 1, name, version, markers: sortedMarkers, files: sortedFiles };
}

/** The canonical bytes. `canonical` says `m` came from buildManifest already (no second copy). */
export function serializeManifest(m: Manifest, canonical = false): string {
  // buildManifest fixed the key order; JSON.stringify keeps insertion order.
  return JSON.stringify(canonical ? m : buildManifest(m.name, m.version, m.markers, m.files));
}

/** A manifest's canonical bytes and the identity derived from them. */
export interface ManifestIdentity {
  /** the entry id: the first 40 hex digits of the sha512 of `bytes` */
  id: string;
  /** ssri integrity (`sha512-BASE64`) of `bytes` */
  integrity: string;
  /** the canonical manifest, as a JSON string */
  bytes: string;
}

/**
 * The id and integrity of a manifest. `canonical` says `m` came from buildManifest already (it is
 * then serialized as is); otherwise it is canonicalized first.
 */
export function identifyManifest(m: Manifest, canonical = false): ManifestIdentity {
  const bytes = serializeManifest(m, canonical);
  return { ...identityOfDigest(createHash('sha512').update(bytes).digest()), bytes };
}

/**
 * A manifest's id and integrity from the sha512 of its canonical bytes, however they were hashed
 * (whole, or streamed from the store's file). One hash gives both: the id is its hex prefix, the
 * integrity its ssri (base64) form, written out directly (what ssri.parse(...).toString() returns)
 * so that reading a manifest loads no ssri.
 */
export function identityOfDigest(sha512: Buffer): { id: string; integrity: string } {
  return {
    id: sha512.toString('hex').slice(0, ENTRY_ID_LENGTH),
    integrity: `sha512-${sha512.toString('base64')}`,
  };
}

export function summarizeManifest(m: Manifest): {
  files: number;
  dirs: number;
  symlinks: number;
  bytes: number;
} {
  let files = 0,
    dirs = 0,
    symlinks = 0,
    bytes = 0;
  for (const f of m.files) {
    if (f.type === 'file') {
      files++;
      bytes += f.size;
    } else if (f.type === 'dir') dirs++;
    else symlinks++;
  }
  return { files, dirs, symlinks, bytes };
}

function bad(subject: string, why: string): PstoreError {
  return new PstoreError('EPSTORE_INTEGRITY', `manifest ${subject}: ${why}`, {
    subject,
    data: { reason: 'corrupt' },
  });
}

/**
 * Parse manifest bytes read from disk or a bundle, and check they hash to `expectedId`.
 * `trustedTree`: the bytes come from this store's entries-v1/, where only ingest (which enforces
 * the tree rules) and import (which runs this check in full) write; skip re-checking the tree and
 * the canonical form (bytes hashing to their id are the canonical bytes the id was made from).
 * `bytes`: the text as read, hashed as it is rather than encoded from the text again.
 */
export function parseManifest(
  text: string,
  expectedId: string,
  opts: { trustedTree?: boolean; bytes?: Uint8Array } = {},
): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw bad(expectedId, 'is not valid JSON');
  }
  const m = raw as Manifest;
  if (
    typeof m !== 'object' ||
    m === null ||
    m.formatVersion !== 1 ||
    typeof m.name !== 'string' ||
    typeof m.version !== 'string' ||
    !Array.isArray(m.markers) ||
    !Array.isArray(m.files)
  ) {
    throw bad(expectedId, 'has an unknown shape');
  }
  if (opts.trustedTree) {
    // The store names a manifest by the hash of its canonical bytes: text that hashes to its id
    // is those bytes, so it is not serialized again to compare (the costliest step at 10k files).
    const { id } = identityOfDigest(
      createHash('sha512')
        .update(opts.bytes ?? text)
        .digest(),
    );
    if (id !== expectedId) throw bad(expectedId, `hashes to ${id}, not to its id`);
    return m;
  }
  // Canonical text parses to a manifest already in canonical order, which then serializes as is:
  // checked in place, without buildManifest's copy of every record and Buffer per path (issue 9).
  if (!inCanonicalOrder(m) || !serializesTo(m, text))
    throw bad(expectedId, 'is not in canonical form');
  const { id } = identityOfDigest(createHash('sha512').update(text).digest());
  if (id !== expectedId) throw bad(expectedId, `hashes to ${id}, not to its id`);
  checkManifestTree(m, expectedId);
  return m;
}

const MANIFEST_KEYS = ['formatVersion', 'name', 'version', 'markers', 'files'];
const FILE_KEYS: Record<string, string[]> = {
  file: ['path', 'type', 'exec', 'size', 'integrity'],
  dir: ['path', 'type'],
  symlink: ['path', 'type', 'target'],
};

/**
 * Whether buildManifest would leave `m` as it is: its keys and each file's in the canonical order
 * and no others, files in UTF-8 byte order of their paths, markers strictly so (sorted once).
 */
function inCanonicalOrder(m: Manifest): boolean {
  if (!hasKeys(m, MANIFEST_KEYS)) return false;
  const markers: unknown[] = m.markers;
  for (let i = 0; i < markers.length; i++)
    if (
      typeof markers[i] !== 'string' ||
      (i > 0 && byteOrder(m.markers[i - 1]!, m.markers[i]!) >= 0)
    )
      return false;
  const files: unknown[] = m.files;
  for (let i = 0; i < files.length; i++) {
    const f = files[i] as ManifestFile | null;
    if (typeof f !== 'object' || f === null || typeof f.path !== 'string') return false;
    const keys = FILE_KEYS[f.type];
    if (!keys || !hasKeys(f, keys)) return false;
    if (i > 0 && byteOrder(m.files[i - 1]!.path, f.path) > 0) return false;
  }
  return true;
}

/**
 * Whether JSON.stringify(m) is `text`, compared a file at a time: the whole string would be one
 * more copy of a 100k-file manifest at once.
 */
function serializesTo(m: Manifest, text: string): boolean {
  const open = JSON.stringify({ ...m, files: [] }).slice(0, -2); // up to the files' `[`
  if (!text.startsWith(open)) return false;
  let at = open.length;
  for (let i = 0; i < m.files.length; i++) {
    if (i > 0 && text[at++] !== ',') return false;
    const file = JSON.stringify(m.files[i]);
    if (!text.startsWith(file, at)) return false;
    at += file.length;
  }
  return text.length === at + 2 && text.endsWith(']}');
}

function hasKeys(o: object, keys: readonly string[]): boolean {
  const own = Object.keys(o);
  return own.length === keys.length && own.every((k, i) => k === keys[i]);
}

/** comparePaths without a Buffer per string: UTF-16 order is UTF-8 order unless a surrogate is in. */
function byteOrder(a: string, b: string): number {
  if (SURROGATE.test(a) || SURROGATE.test(b)) return comparePaths(a, b);
  return a < b ? -1 : a > b ? 1 : 0;
}

const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * A manifest that did not come from this process's ingest (a file on disk, a bundle) obeys the
 * same rules as one that did: canonical relative paths (no `..`, no absolute, no reserved
 * `.pstore` names), the tree rules, and every parent directory listed. Otherwise a crafted bundle
 * could name `../outside` and activation would write there.
 */
function checkManifestTree(m: Manifest, id: string): void {
  const tree = new TreeCollector(`manifest ${id}`);
  for (const f of m.files) {
    if (
      f.type === 'file' &&
      !(
        Number.isSafeInteger(f.size) &&
        f.size >= 0 &&
        /^sha512-[A-Za-z0-9+/]{86}==$/.test(f.integrity)
      )
    ) {
      throw bad(id, `file ${JSON.stringify(f.path)} has no valid size and sha512 integrity`);
    }
    try {
      if (normalizeMemberPath(f.path) !== f.path)
        throw new Error(`path ${JSON.stringify(f.path)} is not in canonical form`);
      tree.add(f);
    } catch (err) {
      throw bad(id, (err as Error).message);
    }
  }
  if (tree.size !== m.files.length)
    throw bad(id, 'does not list every parent directory of its paths');
}
