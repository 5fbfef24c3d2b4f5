// `pull`: download the entries the store lacks from an OCI remote, verifying everything before
// anything is visible: the manifest (its sha256 when addressed by digest, its shape and annotations
// against what was asked for), the config (sha256, then canonical form and sha512 = the entry id,
// then the integrity), the layer (streamed to a private file under its declared size, sha256); only
// when every wanted entry passed are the bundles imported (lib/transfer/import.ts re-checks every
// object and manifest, and that each bundle carries exactly its entry).

import { createReadStream } from 'node:fs';
import path from 'node:path';
import pMap from 'p-map';
import { PstoreError } from '../../core/errors.js';
import { parseManifest } from '../../core/manifest.js';
import { canonicalIntegrity } from '../manifest-bytes.js';
import type { StoreContext } from '../../store/context.js';
import { importBundle } from '../import.js';
import { lockedPackages, serializeLockfile, type Lockfile } from '../lockfile.js';
import type { RegistryClient } from './client.js';
import {
  entryTag,
  lockTag,
  packageTag,
  parseEntryManifest,
  parseLockIndex,
  type EntryArtifact,
  type EntryIdentity,
} from './mapping.js';
import { presentEntry, presentIds } from './present.js';
import type { PullResult } from './pull-result.js';
import { openRemote, stagingDir, TransferProgress, type RemoteOptions } from './session.js';

/** what to fetch for one wanted entry, and what the answer must say */
interface Target {
  /** what the user asked for, for messages */
  label: string;
  /** a tag, or a manifest digest from the lockfile's index */
  source: string;
  expect: Partial<EntryIdentity>;
}

const MAX_CONFIG_BYTES = 256 * 1024 * 1024; // as import's limit for a manifest member

export async function pullFromRemote(
  ctx: StoreContext,
  refs: readonly string[],
  remote: string,
  opts: RemoteOptions & { lock?: Lockfile } = {},
): Promise<PullResult> {
  const targets = opts.lock ? lockTargets(opts.lock) : refs.map(refTarget);
  const have = await presentIds(
    ctx,
    targets.map((t) => t.expect.id),
  );
  const pending = targets.filter((t) => t.expect.id === undefined || !have.has(t.expect.id));
  const result: PullResult = {
    remote: remote,
    entries: targets.filter((t) => !pending.includes(t)).map((t) => presentEntry(t.expect)),
    blobsDownloaded: 0,
    bytesDownloaded: 0,
    objectsImported: 0,
    dryRun: opts.dryRun ?? false,
  };
  if (!pending.length) return result; // everything is here: no request at all
  const client = await openRemote(remote, opts, 'pull');
  result.remote = client.http.remote.display;
  if (opts.lock) await useLockIndex(client, opts.lock, pending);
  const artifacts = await resolveTargets(client, pending, opts.concurrency ?? 4);
  const known = await presentIds(
    ctx,
    artifacts.map((a) => a.entry.id),
  );
  const wanted = [
    ...new Map(
      artifacts.filter((a) => !known.has(a.entry.id)).map((a) => [a.entry.id, a]),
    ).values(),
  ];
  for (const a of artifacts) if (known.has(a.entry.id)) result.entries.push(presentEntry(a.entry));
  if (opts.dryRun || !wanted.length) {
    result.entries.push(...wanted.map((a) => ({ ...presentEntry(a.entry), pulled: true })));
    return result;
  }
  await downloadAndImport(ctx, client, wanted, result, opts);
  return result;
}

/**
 * Download every wanted artifact into a private staging directory, then import each bundle:
 * nothing is visible until every download passed its checks.
 */
async function downloadAndImport(
  ctx: StoreContext,
  client: RegistryClient,
  wanted: readonly EntryArtifact[],
  result: PullResult,
  opts: RemoteOptions,
): Promise<void> {
  await using stage = await stagingDir('pull');
  const progress = new TransferProgress('pull', wanted.length, opts.onProgress);
  // Every download settles before the staging directory is removed (a failed one does not leave
  // the others writing into a directory being deleted); the first failure is the one reported.
  await pMap(wanted, (a) => fetchArtifact(client, a, stage.dir, progress), {
    concurrency: opts.concurrency ?? 4,
    stopOnError: false,
  }).catch((err: unknown) => {
    throw err instanceof AggregateError ? err.errors[0] : err;
  });
  result.blobsDownloaded = wanted.length * 2;
  result.bytesDownloaded = progress.bytes;
  for (const a of wanted) {
    const file = path.join(stage.dir, `${a.entry.id}.tar`);
    const r = await importBundle(
      ctx,
      createReadStream(file),
      `${result.remote} ${entryTag(a.entry.id)}`,
      { expectIds: [a.entry.id] },
    );
    result.objectsImported += r.objectsImported;
    result.entries.push({ ...presentEntry(a.entry), pulled: true });
  }
}

function lockTargets(lock: Lockfile): Target[] {
  return lockedPackages(lock).map((p) => ({
    label: `${p.name}@${p.version} (${p.id})`,
    source: entryTag(p.id),
    expect: p,
  }));
}

/** A remote ref is a full entry id or NAME@VERSION: a registry cannot answer "the latest NAME". */
function refTarget(ref: string): Target {
  if (/^[0-9a-f]{40}$/.test(ref)) return { label: ref, source: entryTag(ref), expect: { id: ref } };
  const at = ref.indexOf('@', 1);
  if (at > 0 && at < ref.length - 1) {
    const name = ref.slice(0, at);
    const version = ref.slice(at + 1);
    return { label: ref, source: packageTag(name, version), expect: { name, version } };
  }
  throw new PstoreError(
    'EPSTORE_USAGE',
    `pull: ${JSON.stringify(ref)} is not NAME@VERSION or a 40-hex entry id`,
    {
      subject: ref,
      hint: 'a remote cannot say which version of a name is the latest',
    },
  );
}

/** Where the lockfile's index exists (pushed by push --lock, or copied by skopeo), use its digests. */
async function useLockIndex(
  client: RegistryClient,
  lock: Lockfile,
  pending: Target[],
): Promise<void> {
  const tag = lockTag(serializeLockfile(lock));
  const index = await client.getManifest(tag);
  if (!index) return; // entries are still found by their entry-<id> tags
  const byId = new Map(parseLockIndex(index.bytes, tag).map((c) => [c.entry.id, c.digest]));
  for (const t of pending) {
    const digest = byId.get(t.expect.id ?? '');
    if (digest) t.source = digest;
  }
}

async function resolveTargets(
  client: RegistryClient,
  targets: Target[],
  concurrency: number,
): Promise<EntryArtifact[]> {
  const missing: string[] = [];
  const found = await pMap(
    targets,
    async (t) => {
      const m = await client.getManifest(t.source);
      if (!m) {
        missing.push(t.label);
        return undefined;
      }
      if (t.source.startsWith('sha256:') && m.digest !== t.source)
        throw integrity(t.source, `the manifest received hashes to ${m.digest}`);
      const a = parseEntryManifest(m.bytes, t.source);
      for (const [key, value] of Object.entries(t.expect))
        if (a.entry[key as keyof EntryIdentity] !== value)
          throw integrity(
            t.source,
            `names ${a.entry.name}@${a.entry.version} (${a.entry.id}), not ${t.label}`,
          );
      return a;
    },
    { concurrency },
  );
  if (missing.length)
    throw new PstoreError(
      'EPSTORE_NOT_FOUND',
      `${client.http.remote.display} does not have ${missing.length} of the wanted entries: ${missing.join(', ')}`,
      { subject: missing[0]!, data: { remote: client.http.remote.display, missing } },
    );
  return found.filter((a): a is EntryArtifact => a !== undefined);
}

async function fetchArtifact(
  client: RegistryClient,
  a: EntryArtifact,
  dir: string,
  progress: TransferProgress,
): Promise<void> {
  const subject = `${a.entry.name}@${a.entry.version}`;
  // Checked in a call of its own: the config, its text and parsed form (a 100k-file manifest)
  // are not held while the layer downloads.
  await checkConfig(client, a, (n) => progress.addBytes(n, subject));
  await client.downloadBlob(
    a.layer.digest,
    a.layer.size,
    path.join(dir, `${a.entry.id}.tar`),
    (n) => progress.addBytes(n, subject),
  );
  progress.entryDone(subject);
}

/** The config is the entry's manifest: sha512 of its canonical bytes is the id asked for. */
async function checkConfig(
  client: RegistryClient,
  a: EntryArtifact,
  onBytes: (n: number) => void,
): Promise<void> {
  if (a.config.size > MAX_CONFIG_BYTES)
    throw integrity(a.config.digest, `the config is larger than ${MAX_CONFIG_BYTES} bytes`);
  const config = await client.readBlob(a.config.digest, a.config.size);
  onBytes(config.length);
  const text = config.toString('utf8');
  const manifest = parseManifest(text, a.entry.id);
  const actual = canonicalIntegrity(text); // parseManifest found the text canonical
  if (
    actual !== a.entry.integrity ||
    manifest.name !== a.entry.name ||
    manifest.version !== a.entry.version
  )
    throw integrity(
      a.config.digest,
      `the entry's name, version or integrity differ from the annotations`,
    );
}

function integrity(subject: string, why: string): PstoreError {
  return new PstoreError('EPSTORE_INTEGRITY', `${subject}: ${why}`, { subject });
}
