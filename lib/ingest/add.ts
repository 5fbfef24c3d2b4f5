// `add`: ingest a source into the store as one entry. Order (SPEC.md §Add): take the store lock
// shared; hash and write objects; flush the filesystem; write the manifest file atomically; record
// the entry in the index with a synced batch. A failure before the last step records nothing; the
// objects it wrote are unreferenced and `gc` removes them.

import { abortingListener, throwIfAborted } from '../core/abort.js';
import { createReadStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { PstoreError, errnoCode } from '../core/errors.js';
import { flushFiles } from '../fs/flush.js';
import { FilesystemFlusher } from '../fs/writeback.js';
import { fileObjectPath } from '../store/layout.js';
import { registerManifest } from '../store/index-entries.js';
import { lockForRecording, RECORDING, useIndex, type StoreContext } from '../store/context.js';
import { writeManifestFile } from '../store/manifests.js';
import type { EntryRecord, ManifestFile, ProgressListener } from '../core/types.js';
import { crashpoint } from '../core/crashpoint.js';
import { buildManifest, identifyManifest } from '../core/manifest.js';
import { streamMeter, type IngestResult, type SourceMeter } from './source.js';
import {
  prepareSource,
  type AddOptions,
  type AddOrigin,
  type AddSource,
  type PreparedSource,
} from './prepare.js';

export type { AddOptions, AddOrigin, AddSource } from './prepare.js';

export interface AddResult extends EntryRecord {
  /** objects this add wrote; 0 when every file was in the store already */
  objectsWritten: number;
  /** for a wheel or a .deb: how it was read and laid out */
  origin?: AddOrigin;
}

export async function addEntry(
  ctx: StoreContext,
  source: AddSource,
  opts: AddOptions,
): Promise<AddResult> {
  throwIfAborted(opts.signal, { what: 'add', subject: String(opts.name ?? source) });
  const prepared = await prepareSource(source, opts);
  validateName(prepared.name);
  validateVersion(prepared.version);
  const markers = (opts.markers ?? []).map(validateMarker);
  await using _lock = await lockForRecording(ctx);
  const op = {
    what: `adding ${prepared.name}@${prepared.version}`,
    subject: `${prepared.name}@${prepared.version}`,
  };
  const onProgress = abortingListener(opts.signal, op, opts.onProgress);
  // a stream given by the caller is measured as given (prepare may wrap it to sniff its format)
  const meter =
    typeof source !== 'string' && 'tar' in source
      ? streamMeter(source.tar, source.size)
      : undefined;
  // One flush helper serves the ingest's background flushes and the final one (lib/fs/writeback.ts).
  const flusher = new FilesystemFlusher(ctx.root);
  try {
    const how = { onProgress, meter, flusher };
    return await recordEntry(ctx, prepared, markers, how, () => throwIfAborted(opts.signal, op));
  } finally {
    flusher.close();
  }
}

/** Ingest, flush, write the manifest, register it: the add under the store lock. */
async function recordEntry(
  ctx: StoreContext,
  prepared: PreparedSource,
  markers: string[],
  how: IngestHow,
  checkAbort: () => void,
): Promise<AddResult> {
  const ingested = await ingestSource(ctx, prepared.source, how);
  await prepared.done;
  checkAbort(); // the last moment before the entry is written
  // The ingest's list is emptied into the manifest's (canonical copies): 100k files are not held
  // twice while the manifest is serialized, written and recorded.
  const manifest = buildManifest(
    prepared.name,
    prepared.version,
    markers,
    ingested.files.splice(0),
  );
  const ident = identifyManifest(manifest, true);
  crashpoint('add:after-objects');
  // Always flush, even when this add wrote nothing: objects it found present may have been written
  // by a concurrent or crashed add and not be durable yet.
  await flushFiles(ctx.root, objectPaths(ctx, manifest.files), () => how.flusher.flush());
  await writeManifestFile(ctx.layout, ident.id, ident.bytes);
  crashpoint('add:after-manifest');
  const record = await useIndex(ctx, (db) => registerManifest(db, manifest, ident), RECORDING);
  crashpoint('add:after-index');
  return {
    ...record,
    objectsWritten: ingested.objectsWritten,
    ...(prepared.origin ? { origin: prepared.origin } : {}),
  };
}

/** The objects an entry's files are, derived only as far as the flush reads (a few at most). */
function* objectPaths(ctx: StoreContext, files: readonly ManifestFile[]): Generator<string> {
  for (const f of files) if (f.type === 'file') yield fileObjectPath(ctx.layout, f);
}

/** What an ingest reports to and flushes with. */
interface IngestHow {
  onProgress: ProgressListener | undefined;
  meter: SourceMeter | undefined;
  flusher: FilesystemFlusher;
}

async function ingestSource(
  ctx: StoreContext,
  source: AddSource,
  { onProgress, meter, flusher }: IngestHow,
): Promise<IngestResult> {
  const opts = { ...(onProgress ? { onProgress } : {}), ...(meter ? { meter } : {}), flusher };
  // Sources load their parsers on demand (node-tar alone costs ~70 ms of start-up here).
  if (typeof source !== 'string') {
    if ('files' in source)
      return (await import('./from-list.js')).ingestFileList(ctx.layout, source.files, opts);
    return (await import('./from-tar.js')).ingestTar(
      ctx.layout,
      source.tar,
      source.label ?? 'tar stream',
      opts,
    );
  }
  const abs = path.resolve(source);
  let st;
  try {
    st = await fsp.stat(abs);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT')
      throw new PstoreError('EPSTORE_NOT_FOUND', `source ${abs} does not exist`, {
        subject: abs,
        cause: err,
      });
    throw new PstoreError(
      'EPSTORE_INVALID',
      `cannot read source ${abs}: ${(err as Error).message}`,
      { subject: abs, cause: err },
    );
  }
  if (st.isDirectory()) return (await import('./from-dir.js')).ingestDir(ctx.layout, abs, opts);
  // A device is no archive (/dev/zero would be read for ever); a FIFO is a stream like stdin.
  if (!st.isFile() && !st.isFIFO())
    throw new PstoreError(
      'EPSTORE_INVALID',
      `${abs} is not a directory, an archive file or a FIFO (use - for standard input)`,
      { subject: abs },
    );
  const stream = createReadStream(abs);
  const measured = { ...opts, meter: streamMeter(stream, st.size)! };
  return (await import('./from-tar.js')).ingestTar(ctx.layout, stream, abs, measured);
}

// Names and versions end up in refs (NAME@VERSION) and index keys, so they are kept printable.
// eslint-disable-next-line no-control-regex -- control characters are exactly what it rejects
const CONTROL_OR_SPACE = /[\s\u0000-\u001f\u007f]/;

function validateName(name: string): void {
  if (
    typeof name !== 'string' ||
    name === '' ||
    CONTROL_OR_SPACE.test(name) ||
    name.indexOf('@', 1) !== -1 ||
    name.length > 214
  ) {
    throw new PstoreError(
      'EPSTORE_USAGE',
      `${JSON.stringify(name)} is not a valid package name (non-empty, no spaces or control characters, no "@" after the first character)`,
      { subject: String(name), data: { option: 'name' } },
    );
  }
}

function validateVersion(version: string): void {
  if (
    typeof version !== 'string' ||
    version === '' ||
    CONTROL_OR_SPACE.test(version) ||
    version.length > 256
  ) {
    throw new PstoreError(
      'EPSTORE_USAGE',
      `${JSON.stringify(version)} is not a valid version (non-empty, no spaces or control characters)`,
      { subject: String(version), data: { option: 'version' } },
    );
  }
}

function validateMarker(glob: string): string {
  if (typeof glob !== 'string' || glob === '' || glob.includes('\0') || glob.startsWith('/')) {
    throw new PstoreError(
      'EPSTORE_USAGE',
      `${JSON.stringify(glob)} is not a valid marker glob (relative to the prefix root)`,
      { subject: String(glob), data: { option: 'marker' } },
    );
  }
  return glob;
}
