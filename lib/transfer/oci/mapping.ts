// How pstore entries and lockfiles look in an OCI registry (SPEC: OCI remotes). One artifact per
// entry: the config blob is the entry's canonical manifest (so sha512(config) is the entry id before
// anything large is fetched), the one layer its deterministic single-entry bundle (uncompressed, so
// every machine computes the same digest). No timestamps anywhere: every pusher writes the same
// manifest bytes. A lockfile is an image index over the entry manifests. OCI digests are sha256;
// pstore's sha512 stays inside its own manifest and the annotations.

import { createHash } from 'node:crypto';
import { PstoreError } from '../../core/errors.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const ENTRY_ARTIFACT = 'application/vnd.pstore.entry.v1';
export const LOCK_ARTIFACT = 'application/vnd.pstore.lock.v1';
export const CONFIG_TYPE = 'application/vnd.pstore.manifest.v1+json';
export const LAYER_TYPE = 'application/vnd.pstore.bundle.v1.tar';
const NS = 'dev.pstore.entry';
const TITLE = 'org.opencontainers.image.title';

export interface EntryIdentity {
  id: string;
  name: string;
  version: string;
  integrity: string;
}

export interface BlobRef {
  digest: string;
  size: number;
}

export interface EntryArtifact {
  entry: EntryIdentity;
  config: BlobRef;
  layer: BlobRef;
}

function annotations(e: EntryIdentity): Record<string, string> {
  return {
    [`${NS}.id`]: e.id,
    [`${NS}.integrity`]: e.integrity,
    [`${NS}.name`]: e.name,
    [`${NS}.version`]: e.version,
    [TITLE]: `${e.name}@${e.version}`,
  };
}

/** the entry's OCI manifest bytes: fixed key order, no whitespace, no timestamp */
export function entryManifestBytes(a: EntryArtifact): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: ENTRY_ARTIFACT,
      config: { mediaType: CONFIG_TYPE, digest: a.config.digest, size: a.config.size },
      layers: [
        {
          mediaType: LAYER_TYPE,
          digest: a.layer.digest,
          size: a.layer.size,
          annotations: { [TITLE]: `${a.entry.id}.pstore.tar` },
        },
      ],
      annotations: annotations(a.entry),
    }),
  );
}

/** the lockfile's image index bytes over its entries' manifests (in the lockfile's order) */
export function lockIndexBytes(
  children: ReadonlyArray<{ entry: EntryIdentity } & BlobRef>,
): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      artifactType: LOCK_ARTIFACT,
      manifests: children.map((c) => ({
        mediaType: OCI_MANIFEST,
        digest: c.digest,
        size: c.size,
        artifactType: ENTRY_ARTIFACT,
        annotations: annotations(c.entry),
      })),
      annotations: { 'dev.pstore.lockfile.version': '1' },
    }),
  );
}

export const entryTag = (id: string): string => `entry-${id}`;

/** `lock-` and 40 hex of the sha256 of the lockfile's canonical bytes */
export function lockTag(lockfileBytes: string): string {
  return `lock-${createHash('sha256').update(lockfileBytes).digest('hex').slice(0, 40)}`;
}

/**
 * A readable tag for NAME@VERSION (mutable: the latest pushed). Tags allow [A-Za-z0-9._-], at most
 * 128; names that need more get a hash suffix. Sanitizing can collide (`a-b`@`1` and `a`@`b-1`), so
 * a pull always checks the annotations after resolving it.
 */
export function packageTag(name: string, version: string): string {
  const plain = `${name}-${version}`;
  const safe = plain.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[.-]/, '_');
  if (safe === plain && plain.length <= 128) return plain;
  const hash = createHash('sha256').update(`${name}\0${version}`).digest('hex').slice(0, 16);
  return `${safe.slice(0, 100)}-${hash}`;
}

function notOurs(subject: string, why: string): PstoreError {
  return new PstoreError('EPSTORE_INTEGRITY', `${subject}: ${why}`, { subject });
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

function blobRef(d: unknown, subject: string, what: string, mediaType: string): BlobRef {
  const o = d as { mediaType?: unknown; digest?: unknown; size?: unknown } | null;
  if (
    o?.mediaType !== mediaType ||
    typeof o.digest !== 'string' ||
    !DIGEST.test(o.digest) ||
    !Number.isSafeInteger(o.size) ||
    (o.size as number) < 0
  )
    throw notOurs(subject, `its ${what} is not a ${mediaType} with a sha256 digest and a size`);
  return { digest: o.digest, size: o.size as number };
}

function identity(raw: unknown, subject: string): EntryIdentity {
  const a = (raw ?? {}) as Record<string, unknown>;
  const [id, name, version, integrity] = ['id', 'name', 'version', 'integrity'].map(
    (k) => a[`${NS}.${k}`],
  );
  if (
    typeof id !== 'string' ||
    !/^[0-9a-f]{40}$/.test(id) ||
    typeof name !== 'string' ||
    typeof version !== 'string' ||
    typeof integrity !== 'string'
  )
    throw notOurs(
      subject,
      `its annotations do not name a pstore entry (${NS}.id, name, version, integrity)`,
    );
  return { id, name, version, integrity };
}

function parseJson(bytes: Buffer, subject: string): Record<string, unknown> {
  try {
    const v = JSON.parse(bytes.toString('utf8')) as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v))
      return v as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw notOurs(subject, 'is not a JSON object');
}

export function parseEntryManifest(bytes: Buffer, subject: string): EntryArtifact {
  const m = parseJson(bytes, subject);
  if (m.mediaType !== OCI_MANIFEST || m.artifactType !== ENTRY_ARTIFACT)
    throw notOurs(subject, `is not a pstore entry (artifactType ${ENTRY_ARTIFACT})`);
  const layers = m.layers;
  if (!Array.isArray(layers) || layers.length !== 1)
    throw notOurs(subject, 'does not have exactly one layer');
  return {
    entry: identity(m.annotations, subject),
    config: blobRef(m.config, subject, 'config', CONFIG_TYPE),
    layer: blobRef(layers[0], subject, 'layer', LAYER_TYPE),
  };
}

export function parseLockIndex(
  bytes: Buffer,
  subject: string,
): Array<{ entry: EntryIdentity } & BlobRef> {
  const m = parseJson(bytes, subject);
  // skopeo copy (1.9) re-serializes an index without artifactType: accept its absence. Each child
  // is verified by digest and by its config's sha512 anyway.
  const artifactType = m.artifactType ?? LOCK_ARTIFACT;
  if (m.mediaType !== OCI_INDEX || artifactType !== LOCK_ARTIFACT || !Array.isArray(m.manifests))
    throw notOurs(subject, `is not a pstore lockfile index (artifactType ${LOCK_ARTIFACT})`);
  return m.manifests.map((d: unknown) => ({
    ...blobRef(d, subject, 'entry', OCI_MANIFEST),
    entry: identity((d as { annotations?: unknown }).annotations, subject),
  }));
}
