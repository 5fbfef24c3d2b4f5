// `export`: write entries, their manifests and every object they need into one bundle (bundle.ts).
// Members are staged as hard links in <store>/tmp (same filesystem, no copying) and packed by
// node-tar with fixed metadata; the store lock is held shared so gc cannot remove them meanwhile.

import { createWriteStream, promises as fsp } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Pack, type WriteEntry } from 'tar';
import { identifyManifest } from '../core/manifest.js';
import { TEMP_PREFIX } from '../core/names.js';
import { lockStore, type StoreContext } from '../store/context.js';
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
  await using _lock = await lockStore(ctx, 'shared');
  const stage = path.join(ctx.layout.tmp, `export-${randomBytes(6).toString('hex')}`);
  await fsp.mkdir(path.join(stage, 'entries'), { recursive: true });
  await fsp.mkdir(path.join(stage, 'objects'));
  try {
    const sorted = [...new Map(entries.map((e) => [e.id, e])).values()].sort((a, b) =>
      a.id < b.id ? -1 : 1,
    );
    const { descriptor, keys } = await stageManifests(ctx, stage, sorted, checkAbort);
    const objectNames = [...keys].sort();
    const bytes = await stageObjects(ctx, stage, objectNames, checkAbort);
    await fsp.writeFile(path.join(stage, BUNDLE_DESCRIPTOR), serializeDescriptor(descriptor));
    const members = [
      BUNDLE_DESCRIPTOR,
      ...sorted.map((e) => `entries/${e.id}.json`),
      ...objectNames.map((k) => `objects/${k}`),
    ];
    // 1 MiB reads (node-tar's default is 16 MiB per file): peak RSS of an export or a push
    // stays flat however large the objects are.
    const pack = packWindowed(
      { cwd: stage, portable: true, mtime: new Date(0), noDirRecurse: true, maxReadSize: 1 << 20 },
      members,
    );
    // node-tar's Pack is a Minipass stream: pipe/on/async iteration as a Readable, not its type.
    await write(pack as unknown as Readable);
    return {
      entries: sorted.map(({ id, name, version }) => ({ id, name, version })),
      objects: objectNames.length,
      bytes,
    };
  } finally {
    await fsp.rm(stage, { recursive: true, force: true });
  }
}

/** Members handed to the pack ahead of the last one it finished: each may buffer its whole file. */
const PACK_WINDOW = 8;

/**
 * A tar of `members` (paths under `opts.cwd`), fed to node-tar's Pack PACK_WINDOW at a time: its
 * Pack walks its whole queue of members each time one is done, so 100k members given at once
 * cost quadratic time (an export of 100k objects ran for most of an hour) and an entry each.
 */
function packWindowed(
  opts: ConstructorParameters<typeof Pack>[0],
  members: readonly string[],
): Pack {
  let added = 0;
  let finished = 0;
  let ended = false;
  const feed = () => {
    while (added < members.length && added - finished < PACK_WINDOW) pack.write(members[added++]!);
    if (added === members.length && !ended) {
      ended = true; // the pack ends once the members given are written
      pack.end();
    }
  };
  const pack: Pack = new Pack({
    ...opts,
    onWriteEntry: (entry: WriteEntry) =>
      entry.once('end', () => {
        finished++;
        feed();
      }),
  });
  feed();
  return pack;
}

/** Link each entry's manifest into the stage; the descriptor and the object keys they name. */
async function stageManifests(
  ctx: StoreContext,
  stage: string,
  sorted: readonly EntryRecord[],
  checkAbort: () => void,
): Promise<{ descriptor: BundleDescriptor; keys: Set<string> }> {
  const keys = new Set<string>();
  const descriptor: BundleDescriptor = { bundleVersion: BUNDLE_VERSION, entries: [] };
  for (const e of sorted) {
    checkAbort();
    const manifest = await readManifestFile(ctx.layout, e.id);
    descriptor.entries.push({
      id: e.id,
      name: e.name,
      version: e.version,
      integrity: identifyManifest(manifest).integrity,
    });
    await fsp.link(manifestPath(ctx.layout, e.id), path.join(stage, 'entries', `${e.id}.json`));
    for (const f of manifest.files) if (f.type === 'file') keys.add(fileObjectKey(f));
  }
  return { descriptor, keys };
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
    throw err;
  }
}
