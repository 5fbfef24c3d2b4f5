// `push`: upload entries to an OCI remote. Per entry: HEAD its `entry-<id>` manifest (present:
// nothing is sent, only the NAME-VERSION tag is re-pointed if it moved); else export the
// single-entry bundle to a private file, HEAD each blob and upload the missing ones (streamed), then
// PUT the manifest under `entry-<id>` and the NAME-VERSION tag. With a lockfile, its image index is
// PUT after all its entries exist (the registry refuses unknown children, and a reader never finds
// a lock whose entries are missing).

import { createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import pMap from 'p-map';
import { PstoreError, isPstoreError } from '../../core/errors.js';
import type { EntryRecord } from '../../core/types.js';
import type { StoreContext } from '../../store/context.js';
import { readManifestBytes } from '../manifest-bytes.js';
import { resolveEntry } from '../../store/query.js';
import { streamBundle } from '../export.js';
import { lockedPackages, serializeLockfile, type Lockfile } from '../lockfile.js';
import {
  bufferSource,
  fileSource,
  sha256Digest,
  type BlobSource,
  type RegistryClient,
} from './client.js';
import {
  entryManifestBytes,
  entryTag,
  lockIndexBytes,
  lockTag,
  OCI_INDEX,
  OCI_MANIFEST,
  packageTag,
  parseEntryManifest,
  type BlobRef,
} from './mapping.js';
import { openRemote, stagingDir, TransferProgress, type RemoteOptions } from './session.js';

/** One entry a push sent (or found already on the remote). */
export interface PushedEntry {
  /** the entry id */
  id: string;
  /** the package name */
  name: string;
  /** the package version */
  version: string;
  /** sha256 of the entry's OCI manifest (null on a dry run that would upload it) */
  digest: string | null;
  /** false when the remote had it already */
  uploaded: boolean;
}

/** What {@link Store.push} did (or, with `dryRun`, would do). */
export interface PushResult {
  /** the remote, `oci://HOST[:PORT]/REPOSITORY` */
  remote: string;
  /** every entry pushed or found present */
  entries: PushedEntry[];
  /** registry blobs uploaded */
  blobsUploaded: number;
  /** bytes uploaded */
  bytesUploaded: number;
  /** the lockfile's index tag and whether it was uploaded (push --lock) */
  lock: {
    /** the tag the lockfile's index is pushed under */
    tag: string;
    /** false when the remote had it already */
    uploaded: boolean;
  } | null;
  /** whether this was a dry run (nothing uploaded) */
  dryRun: boolean;
}

export async function pushToRemote(
  ctx: StoreContext,
  refs: readonly string[],
  remote: string,
  opts: RemoteOptions & { lock?: Lockfile } = {},
): Promise<PushResult> {
  const wanted = opts.lock ? lockedPackages(opts.lock).map((p) => p.id) : refs;
  const records = await resolveAll(ctx, wanted);
  const client = await openRemote(remote, opts, 'pull,push');
  const progress = new TransferProgress('push', records.length, opts.onProgress);
  const counts = { blobs: 0 };
  const entries = await pMap(
    records,
    async (e) => {
      const r = await pushEntry(ctx, client, e, opts.dryRun ?? false, counts, progress);
      progress.entryDone(`${e.name}@${e.version}`);
      return r;
    },
    { concurrency: opts.concurrency ?? 4 },
  );
  const lock = opts.lock ? await pushLockIndex(client, opts.lock, opts.dryRun ?? false) : null;
  return {
    remote: client.http.remote.display,
    entries,
    blobsUploaded: counts.blobs,
    bytesUploaded: progress.bytes,
    lock,
    dryRun: opts.dryRun ?? false,
  };
}

/** Every ref resolved; all that match nothing are named in one EPSTORE_NOT_FOUND. */
async function resolveAll(ctx: StoreContext, refs: readonly string[]): Promise<EntryRecord[]> {
  const found = new Map<string, EntryRecord>();
  const missing: string[] = [];
  for (const ref of refs) {
    try {
      const e = await resolveEntry(ctx, ref);
      found.set(e.id, e);
    } catch (err) {
      if (!isPstoreError(err, 'EPSTORE_NOT_FOUND')) throw err;
      missing.push(ref);
    }
  }
  if (missing.length)
    throw new PstoreError(
      'EPSTORE_NOT_FOUND',
      `${missing.length === 1 ? '1 ref matches' : `${missing.length} refs match`} no entry of the store: ${missing.join(', ')}`,
      { subject: missing[0]!, data: { missing } },
    );
  return [...found.values()];
}

async function pushEntry(
  ctx: StoreContext,
  client: RegistryClient,
  e: EntryRecord,
  dryRun: boolean,
  counts: { blobs: number },
  progress: TransferProgress,
): Promise<PushedEntry> {
  const base = { id: e.id, name: e.name, version: e.version };
  const present = await client.manifestDigest(entryTag(e.id));
  if (present !== undefined) {
    const digest = dryRun ? present : await retag(client, e, present);
    return { ...base, digest, uploaded: false };
  }
  if (dryRun) return { ...base, digest: null, uploaded: true };
  await using stage = await stagingDir('push');
  const bundle = path.join(stage.dir, `${e.id}.tar`);
  const layer = await writeHashedBundle(ctx, e, bundle);
  const { bytes: config, integrity } = await readManifestBytes(ctx.layout, e.id);
  const subject = `${e.name}@${e.version}`;
  const blobs: Array<[BlobRef, BlobSource]> = [
    [{ digest: sha256Digest(config), size: config.length }, bufferSource(config)],
    [layer, fileSource(bundle, layer.size)],
  ];
  const manifest = entryManifestBytes({
    entry: { ...base, integrity },
    config: blobs[0]![0],
    layer,
  });
  const uploadMissing = async () => {
    for (const [ref, source] of blobs) {
      if (await client.blobExists(ref.digest)) continue;
      await client.uploadBlob(ref.digest, source);
      counts.blobs++;
      progress.addBytes(ref.size, subject);
    }
  };
  await racyPut(() => client.putManifest(entryTag(e.id), manifest, OCI_MANIFEST), uploadMissing);
  await client.putManifest(packageTag(e.name, e.version), manifest, OCI_MANIFEST);
  return { ...base, digest: sha256Digest(manifest), uploaded: true };
}

/**
 * Another pusher writing the same blob or manifest at this moment can make the registry refuse a
 * manifest (DIGEST_INVALID, MANIFEST_BLOB_UNKNOWN while its write commits; seen with two pushers on
 * registry 2.8.2): check the blobs again (`prepare`), then retry.
 */
async function racyPut(put: () => Promise<void>, prepare?: () => Promise<void>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    await prepare?.();
    try {
      return await put();
    } catch (err) {
      if (attempt >= 3 || !isRacyRefusal(err)) throw err;
      await sleep(300 * (attempt + 1));
    }
  }
}

function isRacyRefusal(err: unknown): boolean {
  const code = isPstoreError(err, 'EPSTORE_REMOTE') ? err.data?.registryCode : undefined;
  return code === 'DIGEST_INVALID' || code === 'MANIFEST_BLOB_UNKNOWN';
}

/** The NAME-VERSION tag points at the latest push of that version: re-point it only if it moved. */
async function retag(client: RegistryClient, e: EntryRecord, digest: string): Promise<string> {
  const tag = packageTag(e.name, e.version);
  if (digest !== '' && (await client.manifestDigest(tag)) === digest) return digest;
  const m = await client.getManifest(entryTag(e.id));
  if (!m) return digest; // removed meanwhile: nothing to point at
  await client.putManifest(tag, m.bytes, OCI_MANIFEST);
  return m.digest;
}

/** The single-entry bundle written once to a private file, hashed on its way (no second read). */
async function writeHashedBundle(
  ctx: StoreContext,
  e: EntryRecord,
  file: string,
): Promise<BlobRef> {
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  // Not durable: the file lives only until its upload; a crash leaves a temp dir, not a store.
  await streamBundle(
    ctx,
    [e],
    (tar) => pipeline(tar, tap, createWriteStream(file, { flags: 'wx' })),
    file,
  );
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

async function pushLockIndex(
  client: RegistryClient,
  lock: Lockfile,
  dryRun: boolean,
): Promise<{ tag: string; uploaded: boolean }> {
  const tag = lockTag(serializeLockfile(lock));
  if ((await client.manifestDigest(tag)) !== undefined) return { tag, uploaded: false };
  if (dryRun) return { tag, uploaded: true };
  const children: Parameters<typeof lockIndexBytes>[0][number][] = [];
  for (const p of lockedPackages(lock)) {
    // Present entries were not uploaded now: their manifest (small) gives digest and size.
    const m = await client.getManifest(entryTag(p.id));
    if (!m || parseEntryManifest(m.bytes, entryTag(p.id)).entry.id !== p.id)
      throw new PstoreError(
        'EPSTORE_REMOTE',
        `${client.http.remote.display}: ${entryTag(p.id)} vanished during the push`,
        {
          subject: client.http.remote.display,
        },
      );
    children.push({ entry: { ...p }, digest: m.digest, size: m.bytes.length });
  }
  await racyPut(() => client.putManifest(tag, lockIndexBytes(children), OCI_INDEX));
  return { tag, uploaded: true };
}
