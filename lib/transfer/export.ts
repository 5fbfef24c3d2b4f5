// `export`: write entries, their manifests and every object they need into one bundle (bundle.ts).
// Members are staged as hard links in <store>/tmp (same filesystem, no copying) and packed by
// node-tar with fixed metadata; the store lock is held shared so gc cannot remove them meanwhile.

import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { identityOfDigest } from '../core/manifest.js';
import { TEMP_PREFIX } from '../core/names.js';
import { withPath } from '../fs/errno.js';
import { removeTree } from '../fs/remove-tree.js';
import { assertWritable, lockStore, type StoreContext } from '../store/context.js';
import { fileObjectKey } from '../core/object-key.js';
import { manifestPath, objectPath } from '../store/layout.js';
import { readManifestFile } from '../store/manifests.js';
import type { EntryRecord } from '../core/types.js';
import { throwIfAborted } from '../core/abort.js';
import {
  BUNDLE_DESCRIPTOR,
  BUNDLE_VERSION,
  serializeDescriptor,
  type BundleDescriptor,
} from './bundle.js';
import { packWindowed } from './pack-window.js';

/** What {@link Store.export} wrote. */
export interface ExportResult {
  /** the bundle file, absolute */
  file: string;
  /** the entries in the bundle, sorted by id */
  entries: Array<{
    /** the entry id */
    id: string;
    /** the package name */
    name: string;
    /** the package version */
    version: string;
  }>;
  /** distinct objects in the bundle */
  objects: number;
  /** total size of those objects, in bytes */
  bytes: number;
}

/** Options of {@link Store.export}; all optional. */
export interface ExportOptions {
  /** stop before the next entry or object with EPSTORE_ABORTED; no bundle file is written */
  signal?: AbortSignal;
}

export async function exportBundle(
  ctx: StoreContext,
  entries: readonly EntryRecord[],
  file: string,
  opts: ExportOptions = {},
): Promise<ExportResult> {
  const out = path.resolve(file);
  const r = await streamBundle(ctx, entries, (tar) => writeDurably(tar, out), out, opts);
  return { file: out, ...r };
}

/**
 * The bundle of `entries` as one tar stream handed to `write` (the same bytes `export` writes);
 * `out` names the destination in messages. Push hashes it on its way to a private file.
 */
export async function streamBundle(
  ctx: StoreContext,
  entries: readonly EntryRecord[],
  write: (tar: Readable) => Promise<void>,
  out: string,
  opts: ExportOptions = {},
): Promise<Omit<ExportResult, 'file'>> {
  const checkAbort = () =>
    throwIfAborted(opts.signal, { what: `the export to ${out}`, subject: out });
  checkAbort();
  // The stage is in the store (hard links need its filesystem): a store this user may not write is
  // EPSTORE_PERMISSION naming it, not the ENOENT a recursive mkdir gives on a read-only mount.
  await assertWritable(ctx);
  await using _lock = await lockStore(ctx, 'shared');
  const stage = path.join(ctx.layout.tmp, `export-${randomBytes(6).toString('hex')}`);
  await fsp.mkdir(path.join(stage, 'entries'), { recursive: true });
  await fsp.mkdir(path.join(stage, 'objects'));
  try {
    const sorted = [...new Map(entries.map((e) => [e.id, e])).values()].sort((a, b) =>
      a.id < b.id ? -1 : 1,
    );
    const { descriptor, objectNames } = await stageManifests(ctx, stage, sorted, checkAbort);
    const bytes = await stageObjects(ctx, stage, objectNames, checkAbort);
    await fsp.writeFile(path.join(stage, BUNDLE_DESCRIPTOR), serializeDescriptor(descriptor));
    // 1 MiB reads (node-tar's default is 16 MiB per file): peak RSS of an export or a push
    // stays flat however large the objects are.
    const pack = packWindowed(
      { cwd: stage, portable: true, mtime: new Date(0), noDirRecurse: true, maxReadSize: 1 << 20 },
      bundleMembers(sorted, objectNames),
    );
    // node-tar's Pack is a Minipass stream: pipe/on/async iteration as a Readable, not its type.
    await write(pack as unknown as Readable);
    return {
      entries: sorted.map(({ id, name, version }) => ({ id, name, version })),
      objects: objectNames.length,
      bytes,
    };
  } finally {
    await removeTree(stage);
  }
}

/** The bundle's member names in bundle order, one at a time (not 100k strings at once). */
function* bundleMembers(
  sorted: readonly EntryRecord[],
  objectNames: readonly string[],
): Generator<string> {
  yield BUNDLE_DESCRIPTOR;
  for (const e of sorted) yield `entries/${e.id}.json`;
  for (const k of objectNames) yield `objects/${k}`;
}

/** Link each entry's manifest into the stage; the descriptor and the object keys they name, sorted. */
async function stageManifests(
  ctx: StoreContext,
  stage: string,
  sorted: readonly EntryRecord[],
  checkAbort: () => void,
): Promise<{ descriptor: BundleDescriptor; objectNames: string[] }> {
  const keys = new Set<string>();
  const descriptor: BundleDescriptor = { bundleVersion: BUNDLE_VERSION, entries: [] };
  for (const e of sorted) {
    checkAbort();
    const manifest = await readManifestFile(ctx.layout, e.id);
    descriptor.entries.push({
      id: e.id,
      name: e.name,
      version: e.version,
      integrity: await manifestIntegrity(ctx, e.id),
    });
    await fsp.link(manifestPath(ctx.layout, e.id), path.join(stage, 'entries', `${e.id}.json`));
    for (const f of manifest.files) if (f.type === 'file') keys.add(fileObjectKey(f));
  }
  return { descriptor, objectNames: [...keys].sort() };
}

/**
 * The integrity of an entry's canonical manifest: its file's bytes, which readManifestFile found to
 * hash to the id (so they are canonical), hashed as a stream rather than serialized again whole.
 */
async function manifestIntegrity(ctx: StoreContext, id: string): Promise<string> {
  const hash = createHash('sha512');
  await pipeline(createReadStream(manifestPath(ctx.layout, id)), hash);
  return identityOfDigest(hash.digest()).integrity;
}

/** Link each object into the stage; their total size in bytes. */
async function stageObjects(
  ctx: StoreContext,
  stage: string,
  objectNames: readonly string[],
  checkAbort: () => void,
): Promise<number> {
  let bytes = 0;
  for (const key of objectNames) {
    checkAbort();
    const src = objectPath(ctx.layout, key);
    bytes += (await fsp.stat(src)).size;
    await fsp.link(src, path.join(stage, 'objects', key));
  }
  return bytes;
}

/** The tar stream into `out`, durably, or leave no file. */
async function writeDurably(tar: Readable, out: string): Promise<void> {
  const tmpOut = `${out}${TEMP_PREFIX}tmp-${randomBytes(4).toString('hex')}`;
  try {
    await pipeline(tar, createWriteStream(tmpOut, { flags: 'wx' }));
    const fh = await fsp.open(tmpOut, 'r');
    await fh.sync();
    await fh.close();
    await fsp.rename(tmpOut, out);
  } catch (err) {
    await fsp.rm(tmpOut, { force: true });
    throw withPath(err, out); // a write's ENOSPC names no file
  }
}
