// `import`: verify a bundle completely before anything of it becomes part of the store.
// Every object is streamed into a private staging directory while hashed (or, when the store has
// it already, only hashed), and must hash to its name; every manifest must be canonical and hash to its id; every object a manifest names must be
// in the bundle or the store; the descriptor must list exactly the manifests. Only then are the
// objects renamed into objects-v1, flushed, the manifests written and the entries recorded. Any
// damage: EPSTORE_INTEGRITY naming the member, and the store is as it was; any failure (a full
// disk) removes the staging directory.

import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import ssri from 'ssri';
import { registerEntry } from '../store/index-entries.js';
import { PstoreError } from '../core/errors.js';
import { syncFilesystem } from '../fs/atomic.js';
import { withPath } from '../fs/errno.js';
import { identifyManifest, parseManifest, summarizeManifest } from '../core/manifest.js';
import { readTarStream } from '../ingest/tar-stream.js';
import { settleAll } from '../ingest/source.js';
import { WriteQueue } from '../ingest/write-queue.js';
import {
  assertWritable,
  indexExists,
  lockStore,
  RECORDING,
  useIndex,
  type StoreContext,
} from '../store/context.js';
import { fileObjectKey, parseObjectKey } from '../core/object-key.js';
import { objectPath } from '../store/layout.js';
import { writeManifestFile } from '../store/manifests.js';
import {
  contentMtime,
  hasIntactObject,
  hasObject,
  OBJECT_MODE,
  OBJECT_MODE_EXEC,
} from '../store/objects.js';
import type { Manifest } from '../core/types.js';
import { ZeroPaddingCheck } from './tar-padding.js';
import {
  BUNDLE_DESCRIPTOR,
  BUNDLE_VERSION,
  serializeDescriptor,
  type BundleDescriptor,
} from './bundle.js';

export interface ImportResult {
  entries: Array<{ id: string; name: string; version: string }>;
  objectsImported: number;
  objectsPresent: number;
}

const MAX_JSON_MEMBER = 256 * 1024 * 1024;

function damaged(file: string, why: string, subject = file): PstoreError {
  return new PstoreError('EPSTORE_INTEGRITY', `bundle ${file}: ${why}`, { subject });
}

export async function importBundle(
  ctx: StoreContext,
  source: Readable,
  label: string,
  /** the entry ids the bundle must carry, no more and no fewer (a pull knows what it asked for) */
  expectIds?: readonly string[],
): Promise<ImportResult> {
  await assertWritable(ctx);
  await using _lock = await lockStore(ctx, 'shared');
  if (!(await indexExists(ctx))) await useIndex(ctx, async () => undefined, RECORDING); // see add.ts
  const stage = path.join(ctx.layout.tmp, `import-${randomBytes(6).toString('hex')}`);
  await fsp.mkdir(stage, { recursive: true });
  try {
    // Piped only now: the reader below attaches its error handlers in the same tick.
    const checked = source.pipe(
      new ZeroPaddingCheck((at) =>
        damaged(label, `byte ${at} should be zero tar padding but is not`),
      ),
    );
    source.on('error', (err) => checked.destroy(err));
    const { descriptor, manifests, received, staged } = await readBundle(
      ctx,
      checked,
      label,
      stage,
    );
    const present = await checkComplete(ctx, label, descriptor, manifests, received, staged);
    const carried = descriptor.entries.map((e) => e.id).sort();
    if (expectIds && carried.join() !== [...expectIds].sort().join())
      throw damaged(
        label,
        `carries the entries ${carried.join(', ') || 'none'}, not the ones asked for`,
      );
    let imported = 0;
    // Staged are the objects the store lacks or holds damaged: the hashed copy replaces them.
    for (const key of staged) {
      const dest = objectPath(ctx.layout, key);
      await fsp.mkdir(path.dirname(dest), { recursive: true });
      await fsp.rename(path.join(stage, key), dest);
      imported++;
    }
    await syncFilesystem(ctx.root);
    const out: ImportResult['entries'] = [];
    for (const d of descriptor.entries) {
      const { manifest, text } = manifests.get(d.id)!;
      await writeManifestFile(ctx.layout, d.id, text);
      await useIndex(
        ctx,
        (db) =>
          registerEntry(db, {
            id: d.id,
            name: manifest.name,
            version: manifest.version,
            integrity: d.integrity,
            markers: manifest.markers,
            ...summarizeManifest(manifest),
            addedAt: new Date().toISOString(),
          }),
        RECORDING,
      );
      out.push({ id: d.id, name: manifest.name, version: manifest.version });
    }
    return { entries: out, objectsImported: imported, objectsPresent: present };
  } finally {
    await fsp.rm(stage, { recursive: true, force: true });
  }
}

async function readBundle(ctx: StoreContext, source: Readable, label: string, stage: string) {
  let descriptor: BundleDescriptor | undefined;
  const manifests = new Map<string, { manifest: Manifest; text: string }>();
  /** objects of the bundle that hash to their names */
  const received = new Set<string>();
  /** those of them written to the staging directory (the rest the store has already) */
  const staged = new Set<string>();
  const seen = new Set<string>();
  const queue = new WriteQueue(64 * 1024 * 1024, 16);
  const bad = (why: string, subject?: string) => damaged(label, why, subject);

  const readSmall = (entry: import('tar').ReadEntry, then: (text: string) => void) => {
    if ((entry.size ?? 0) > MAX_JSON_MEMBER)
      throw bad(`member ${entry.path} is too large`, entry.path);
    const chunks: Buffer[] = [];
    entry.on('data', (c: Buffer) => chunks.push(c));
    entry.on('end', () => {
      try {
        then(Buffer.concat(chunks).toString('utf8'));
      } catch (err) {
        queue.push(0, () => Promise.reject(err));
      }
    });
  };

  let tar!: ReturnType<typeof readTarStream>;
  await settleAll(() => {
    tar = readTarStream(source, {
      queue,
      bad,
      onEntry(entry) {
        const name = entry.path;
        if (seen.has(name)) throw bad(`member ${name} appears twice`, name);
        seen.add(name);
        if (entry.type !== 'File' && entry.type !== 'OldFile')
          throw bad(`member ${name} is a ${entry.type}, not a file`, name);
        if (name === BUNDLE_DESCRIPTOR) {
          readSmall(entry, (text) => {
            descriptor = parseDescriptor(text, label);
          });
        } else if (/^entries\/[0-9a-f]{40}\.json$/.test(name)) {
          const id = name.slice('entries/'.length, -'.json'.length);
          readSmall(entry, (text) => {
            try {
              manifests.set(id, { manifest: parseManifest(text, id), text });
            } catch (err) {
              throw bad(`manifest ${name} does not match its id (${(err as Error).message})`, name);
            }
          });
        } else if (/^objects\/[0-9a-f]{128}(-x)?$/.test(name)) {
          const key = name.slice('objects/'.length);
          const pass = tar.stream(entry);
          queue.push(0, async () => {
            const intact = await hasIntactObject(ctx.layout, key, entry.size ?? -1);
            const wrote = await stageObject(
              pass,
              intact ? undefined : path.join(stage, key),
              key,
              label,
              name,
            );
            received.add(key);
            if (wrote) staged.add(key);
          });
        } else {
          throw bad(`unexpected member ${JSON.stringify(name)}`, name);
        }
      },
    });
    return tar.done;
  }, queue);
  if (!descriptor) throw damaged(label, `${BUNDLE_DESCRIPTOR} is missing`);
  return { descriptor, manifests, received, staged };
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

/** Every listed entry has its manifest; every object is in the bundle or the store. */
async function checkComplete(
  ctx: StoreContext,
  label: string,
  d: BundleDescriptor,
  manifests: Map<string, { manifest: Manifest }>,
  received: Set<string>,
  staged: Set<string>,
): Promise<number> {
  const listed = new Set(d.entries.map((e) => e.id));
  for (const e of d.entries) {
    const m = manifests.get(e.id);
    if (!m)
      throw damaged(
        label,
        `the manifest of ${e.name}@${e.version} (${e.id}) is missing`,
        `entries/${e.id}.json`,
      );
    if (identifyManifest(m.manifest).integrity !== e.integrity)
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
  const missing: string[] = [];
  const named = new Set<string>();
  const present = new Set<string>();
  for (const { manifest } of manifests.values()) {
    for (const f of manifest.files) {
      if (f.type !== 'file') continue;
      const key = fileObjectKey(f);
      named.add(key);
      if (staged.has(key)) continue;
      if (received.has(key) || (await hasObject(ctx.layout, key))) present.add(key);
      else missing.push(`${manifest.name}: ${f.path}`);
    }
  }
  // export writes exactly the objects the manifests name: anything else was added afterwards.
  for (const key of received)
    if (!named.has(key))
      throw damaged(
        label,
        `object objects/${key} belongs to no entry of the bundle`,
        `objects/${key}`,
      );
  if (missing.length)
    throw damaged(
      label,
      `${missing.length} object(s) are missing: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`,
      missing[0],
    );
  return present.size;
}

export async function openBundle(file: string): Promise<Readable> {
  const st = await fsp.stat(file).catch(() => undefined);
  if (!st?.isFile())
    throw new PstoreError('EPSTORE_NOT_FOUND', `bundle ${file} does not exist`, { subject: file });
  return createReadStream(file);
}
