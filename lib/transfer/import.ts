// `import`: verify a bundle completely before anything of it becomes part of the store.
// Every object is streamed into a private staging directory while hashed (or, when the store has
// it already, only hashed), and must hash to its name; every manifest must be canonical and hash to its id; every object a manifest names must be
// in the bundle or the store; the descriptor must list exactly the manifests. Only then are the
// objects renamed into objects-v1, flushed, the manifests written and the entries recorded. Any
// damage: EPSTORE_INTEGRITY naming the member, and the store is as it was; any failure (a full
// disk) removes the staging directory.

import { createWriteStream, promises as fsp } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import ssri from 'ssri';
import { registerManifest } from '../store/index-entries.js';
import { PstoreError, errnoCode } from '../core/errors.js';
import { syncFilesystem } from '../fs/atomic.js';
import { withPath } from '../fs/errno.js';
import { removeTree } from '../fs/remove-tree.js';
import { parseManifest } from '../core/manifest.js';
import { canonicalIntegrity } from './manifest-bytes.js';
import { readTarStream } from '../ingest/tar-stream.js';
import { settleAll, streamMeter } from '../ingest/source.js';
import { importProgress, type MemberReporter } from './import-progress.js';
import { WriteQueue } from '../ingest/write-queue.js';
import { lockForRecording, RECORDING, useIndex, type StoreContext } from '../store/context.js';
import { fileObjectKey, parseObjectKey } from '../core/object-key.js';
import { NAMED, ObjectTally, PRESENT, RECEIVED, SEEN, STAGED } from './object-tally.js';
import { objectPath } from '../store/layout.js';
import { writeManifestFile } from '../store/manifests.js';
import {
  contentMtime,
  hasIntactObject,
  hasObject,
  OBJECT_MODE,
  OBJECT_MODE_EXEC,
} from '../store/objects.js';
import type { Manifest, ProgressListener } from '../core/types.js';
import type { ReadEntry } from 'tar';
import { throwIfAborted } from '../core/abort.js';
import { IgnoredTarBytesCheck } from './tar-padding.js';
import {
  BUNDLE_DESCRIPTOR,
  BUNDLE_VERSION,
  serializeDescriptor,
  type BundleDescriptor,
} from './bundle.js';

/** What {@link Store.import} added. */
export interface ImportResult {
  /** the bundle's entries (all of them, whether new to the store or not) */
  entries: Array<{
    /** the entry id */
    id: string;
    /** the package name */
    name: string;
    /** the package version */
    version: string;
  }>;
  /** objects the store lacked and took from the bundle */
  objectsImported: number;
  /** objects the store had already */
  objectsPresent: number;
}

const MAX_JSON_MEMBER = 256 * 1024 * 1024;

function damaged(file: string, why: string, subject = file): PstoreError {
  return new PstoreError('EPSTORE_INTEGRITY', `bundle ${file}: ${why}`, { subject });
}

/** Options of {@link Store.import}; all optional. */
export interface ImportOptions {
  /** stop before the next member with EPSTORE_ABORTED; the store is left as it was */
  signal?: AbortSignal;
  /** the entry ids the bundle must carry, no more and no fewer (a pull knows what it asked for) */
  expectIds?: readonly string[];
  /** receives `import` events as the bundle's members are read */
  onProgress?: ProgressListener;
  /**
   * the bundle's length in bytes when `source` is a stream and its length is known (progress
   * events then carry `totalBytes`); for a path, the file's size is used
   */
  size?: number;
}

export async function importBundle(
  ctx: StoreContext,
  source: Readable,
  label: string,
  opts: ImportOptions = {},
): Promise<ImportResult> {
  const op = { what: `the import of ${label}`, subject: label };
  throwIfAborted(opts.signal, op);
  await using _lock = await lockForRecording(ctx);
  const stage = path.join(ctx.layout.tmp, `import-${randomBytes(6).toString('hex')}`);
  await fsp.mkdir(stage, { recursive: true });
  try {
    // Piped only now: the reader below attaches its error handlers in the same tick.
    const checked = source.pipe(
      new IgnoredTarBytesCheck(
        (at) => damaged(label, `byte ${at} should be zero tar padding but is not`),
        (at) =>
          damaged(
            label,
            at === 0 ? 'it is empty' : `it ends at byte ${at}, before its end (cut short)`,
          ),
      ),
    );
    source.on('error', (err) => checked.destroy(err));
    const reportMember = importProgress(opts.onProgress, streamMeter(source, opts.size));
    const bundle = await new BundleReader(ctx, label, stage, (member, size) => {
      throwIfAborted(opts.signal, op);
      reportMember(member, size);
    }).read(checked);
    checkEntries(label, bundle);
    checkExpected(label, bundle, opts.expectIds);
    const present = await checkObjects(ctx, label, bundle);
    throwIfAborted(opts.signal, op); // the last moment the store is untouched
    const imported = await moveStagedObjects(ctx, stage, bundle.objects);
    const entries = await recordEntries(ctx, bundle);
    return { entries, objectsImported: imported, objectsPresent: present };
  } finally {
    await removeTree(stage);
  }
}

/** Staged are the objects the store lacks or holds damaged: the hashed copy replaces them. */
async function moveStagedObjects(
  ctx: StoreContext,
  stage: string,
  objects: ObjectTally,
): Promise<number> {
  let moved = 0;
  for (const staged of objects.with(STAGED)) {
    const key = ObjectTally.keyOf(staged);
    const dest = objectPath(ctx.layout, key);
    await fsp.mkdir(path.dirname(dest), { recursive: true });
    await fsp.rename(path.join(stage, key), dest);
    moved++;
  }
  await syncFilesystem(ctx.root);
  return moved;
}

/** Manifests last: an entry exists once its objects are durable. */
async function recordEntries(ctx: StoreContext, bundle: Bundle): Promise<ImportResult['entries']> {
  const out: ImportResult['entries'] = [];
  for (const d of bundle.descriptor.entries) {
    const { manifest, text } = bundle.manifests.get(d.id)!;
    await writeManifestFile(ctx.layout, d.id, text);
    await useIndex(ctx, (db) => registerManifest(db, manifest, d), RECORDING);
    out.push({ id: d.id, name: manifest.name, version: manifest.version });
  }
  return out;
}

/** What a bundle held, every member checked on its own (the whole is checked after). */
interface Bundle {
  descriptor: BundleDescriptor;
  manifests: Map<string, { manifest: Manifest; text: string }>;
  /** the bundle's objects: received (hash to their names), staged (the store lacks them) */
  objects: ObjectTally;
}

const OBJECT_MEMBER = /^objects\/[0-9a-f]{128}(-x)?$/;

/** Reads a bundle's members: the descriptor, manifests (parsed, id-checked), objects (hashed, staged). */
class BundleReader {
  private descriptor: BundleDescriptor | undefined;
  /** each manifest's text, checked; parsed again once every object is read (see read) */
  private readonly texts = new Map<string, string>();
  private readonly objects = new ObjectTally();
  /** members other than objects, seen (objects are marked SEEN in `objects`) */
  private readonly seen = new Set<string>();
  private readonly queue = new WriteQueue(64 * 1024 * 1024, 16);
  private tar!: ReturnType<typeof readTarStream>;

  constructor(
    private readonly ctx: StoreContext,
    private readonly label: string,
    private readonly stage: string,
    /** a safe point for abort, and progress: called as each member begins */
    private readonly beginMember: MemberReporter,
  ) {}

  async read(source: Readable): Promise<Bundle> {
    await settleAll(() => {
      this.tar = readTarStream(source, {
        queue: this.queue,
        bad: (why, subject) => damaged(this.label, why, subject),
        onEntry: (entry) => this.onEntry(entry),
      });
      return this.tar.done;
    }, this.queue);
    if (!this.descriptor) throw damaged(this.label, `${BUNDLE_DESCRIPTOR} is missing`);
    // Parsed manifests are kept only from here on: at 100k files one is several times its text,
    // and held while every object streams it would raise the heap V8 lets grow with the garbage.
    const manifests: Bundle['manifests'] = new Map();
    for (const [id, text] of this.texts)
      manifests.set(id, { manifest: parseManifest(text, id, { trustedTree: true }), text });
    const { descriptor, objects } = this;
    return { descriptor, manifests, objects };
  }

  private onEntry(entry: ReadEntry): void {
    const name = entry.path;
    this.beginMember(name, entry.size ?? 0);
    const object = OBJECT_MEMBER.test(name) ? ObjectTally.ofKey(name.slice(8)) : undefined;
    this.firstTime(name, object);
    if (entry.type !== 'File' && entry.type !== 'OldFile')
      throw damaged(this.label, `member ${name} is a ${entry.type}, not a file`, name);
    if (name === BUNDLE_DESCRIPTOR) {
      this.readSmall(entry, (text) => (this.descriptor = parseDescriptor(text, this.label)));
    } else if (/^entries\/[0-9a-f]{40}\.json$/.test(name)) {
      this.readSmall(entry, (text) => this.addManifest(name, text));
    } else if (object !== undefined) {
      this.readObject(entry, name.slice('objects/'.length), object);
    } else {
      throw damaged(this.label, `unexpected member ${JSON.stringify(name)}`, name);
    }
  }

  /** A member may appear once. */
  private firstTime(name: string, object: string | undefined): void {
    const twice = object === undefined ? this.seen.has(name) : this.objects.has(object, SEEN);
    if (twice) throw damaged(this.label, `member ${name} appears twice`, name);
    if (object === undefined) this.seen.add(name);
    else this.objects.mark(object, SEEN);
  }

  private addManifest(member: string, text: string): void {
    const id = member.slice('entries/'.length, -'.json'.length);
    try {
      parseManifest(text, id); // every check of a foreign manifest, here as the member arrives
      this.texts.set(id, text);
    } catch (err) {
      const why = `manifest ${member} does not match its id (${(err as Error).message})`;
      throw damaged(this.label, why, member);
    }
  }

  private readObject(entry: ReadEntry, key: string, object: string): void {
    const pass = this.tar.stream(entry);
    this.queue.push(0, async () => {
      const intact = await hasIntactObject(this.ctx.layout, key, entry.size ?? -1);
      const dest = intact ? undefined : path.join(this.stage, key);
      const wrote = await stageObject(pass, dest, key, this.label, entry.path);
      this.objects.mark(object, wrote ? RECEIVED | STAGED : RECEIVED);
    });
  }

  private readSmall(entry: ReadEntry, then: (text: string) => void): void {
    if ((entry.size ?? 0) > MAX_JSON_MEMBER)
      throw damaged(this.label, `member ${entry.path} is too large`, entry.path);
    const chunks: Buffer[] = [];
    entry.on('data', (c: Buffer) => chunks.push(c));
    entry.on('end', () => {
      try {
        const text = Buffer.concat(chunks).toString('utf8');
        chunks.length = 0; // a 100k-file manifest's bytes go before it is checked, not after
        then(text);
      } catch (err) {
        this.queue.push(0, () => Promise.reject(err));
      }
    });
  }
}

/**
 * Hash an object member (it must hash to its name) and write it to `dest`; with no `dest` (the
 * store has the object) its bytes are only hashed. Returns whether it was written.
 */
async function stageObject(
  source: Readable,
  dest: string | undefined,
  key: string,
  label: string,
  member: string,
): Promise<boolean> {
  const { hex, exec } = parseObjectKey(key);
  const hasher = ssri.integrityStream({ algorithms: ['sha512'] });
  let found: ssri.Integrity | undefined;
  hasher.on('integrity', (i: ssri.Integrity) => {
    found = i;
  });
  const sink =
    dest === undefined
      ? new Writable({ write: (_chunk, _enc, done) => done() })
      : createWriteStream(dest, { mode: exec ? OBJECT_MODE_EXEC : OBJECT_MODE, flags: 'wx' });
  await pipeline(source, hasher, sink).catch((err: unknown) => {
    throw withPath(err, dest ?? member);
  });
  if (!found || found.hexDigest() !== hex)
    throw damaged(label, `object ${member} does not hash to its name`, member);
  if (dest === undefined) return false;
  const t = contentMtime(key);
  await fsp.utimes(dest, t, t);
  return true;
}

function parseDescriptor(text: string, label: string): BundleDescriptor {
  let d: BundleDescriptor;
  try {
    d = JSON.parse(text) as BundleDescriptor;
  } catch {
    throw damaged(label, `${BUNDLE_DESCRIPTOR} is not valid JSON`, BUNDLE_DESCRIPTOR);
  }
  if (d?.bundleVersion !== BUNDLE_VERSION || !Array.isArray(d.entries))
    throw damaged(label, `${BUNDLE_DESCRIPTOR} has an unknown shape or version`, BUNDLE_DESCRIPTOR);
  if (serializeDescriptor(d) !== text)
    throw damaged(label, `${BUNDLE_DESCRIPTOR} is not in canonical form`, BUNDLE_DESCRIPTOR);
  return d;
}

/** The descriptor lists exactly the manifests, each as its manifest describes itself. */
/** A pull knows which entries it asked for: a bundle carrying others is not what was verified. */
function checkExpected(label: string, bundle: Bundle, expectIds?: readonly string[]): void {
  const carried = bundle.descriptor.entries.map((e) => e.id).sort();
  if (expectIds && carried.join() !== [...expectIds].sort().join())
    throw damaged(
      label,
      `carries the entries ${carried.join(', ') || 'none'}, not the ones asked for`,
    );
}

function checkEntries(label: string, { descriptor: d, manifests }: Bundle): void {
  const listed = new Set(d.entries.map((e) => e.id));
  for (const e of d.entries) {
    const m = manifests.get(e.id);
    if (!m)
      throw damaged(
        label,
        `the manifest of ${e.name}@${e.version} (${e.id}) is missing`,
        `entries/${e.id}.json`,
      );
    // parseManifest found the text canonical: its hash is the manifest's integrity
    if (canonicalIntegrity(m.text) !== e.integrity)
      throw damaged(label, `entry ${e.id}'s integrity does not match its manifest`, e.id);
    if (m.manifest.name !== e.name || m.manifest.version !== e.version)
      throw damaged(
        label,
        `entry ${e.id} is described as ${e.name}@${e.version} but its manifest says ${m.manifest.name}@${m.manifest.version}`,
        e.id,
      );
  }
  for (const id of manifests.keys())
    if (!listed.has(id))
      throw damaged(
        label,
        `manifest entries/${id}.json is not listed in ${BUNDLE_DESCRIPTOR}`,
        `entries/${id}.json`,
      );
}

/**
 * Every object a manifest names is in the bundle or the store, and the bundle holds no other;
 * returns how many were present already (in the store, or received intact over a stored copy).
 */
async function checkObjects(ctx: StoreContext, label: string, bundle: Bundle): Promise<number> {
  const missing: string[] = [];
  const objects = bundle.objects;
  for (const { manifest } of bundle.manifests.values()) {
    for (const f of manifest.files) {
      if (f.type !== 'file') continue;
      const object = ObjectTally.ofFile(f);
      objects.mark(object, NAMED);
      if (objects.has(object, STAGED | PRESENT)) continue;
      if (objects.has(object, RECEIVED) || (await hasObject(ctx.layout, fileObjectKey(f))))
        objects.mark(object, PRESENT);
      else missing.push(`${manifest.name}: ${f.path}`);
    }
  }
  // export writes exactly the objects the manifests name: anything else was added afterwards.
  for (const stray of objects.with(RECEIVED, NAMED)) {
    const key = ObjectTally.keyOf(stray);
    throw damaged(
      label,
      `object objects/${key} belongs to no entry of the bundle`,
      `objects/${key}`,
    );
  }
  if (missing.length)
    throw damaged(
      label,
      `${missing.length} object(s) are missing: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`,
      missing[0],
    );
  return objects.count(PRESENT);
}

/**
 * The bundle file as a stream, and its size for progress. Opened here, before any stream exists:
 * a file this user may not read is EPSTORE_PERMISSION naming it (an unreadable file given to
 * createReadStream failed later, as an unhandled stream error).
 */
export async function openBundle(file: string): Promise<{ stream: Readable; size: number }> {
  const st = await fsp.stat(file).catch((err: unknown) => {
    if (['ENOENT', 'ENOTDIR'].includes(errnoCode(err) ?? '')) return undefined;
    throw err;
  });
  if (!st)
    throw new PstoreError('EPSTORE_NOT_FOUND', `bundle ${file} does not exist`, { subject: file });
  if (!st.isFile())
    throw new PstoreError('EPSTORE_INVALID', `${file} is not a bundle (not a regular file)`, {
      subject: file,
    });
  const handle = await fsp.open(file, 'r');
  return { stream: handle.createReadStream(), size: st.size };
}
