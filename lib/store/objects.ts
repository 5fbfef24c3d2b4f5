// File objects: immutable, read-only, named by the sha512 of their bytes (+ exec bit, see layout.ts).
// Invariant: a name under objects-v1/ only ever appears by rename() of a complete temp file from
// <store>/tmp, so a present object is complete or, if damaged later, fails `verify`. A present
// object is trusted only after a check against bytes just hashed: a damaged one is replaced.
// Objects are not fsynced one by one: `add` flushes the filesystem once before it writes the
// manifest that refers to them (SPEC.md §Durability).

import { webcrypto } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import path from 'node:path';
import ssri from 'ssri';
import { errnoCode } from '../core/errors.js';
import { tmpName } from '../fs/atomic.js';
import { withPath } from '../fs/errno.js';
import { crashpoint } from '../core/crashpoint.js';
import { hexOf, objectKey, parseObjectKey } from '../core/object-key.js';
import { objectPath, type StoreLayout } from './layout.js';
import {
  contentMtime,
  hashedByDigest,
  madeDirs,
  OBJECT_MODE,
  OBJECT_MODE_EXEC,
  type HashedBuffer,
  type Presence,
} from './write-buffer.js';

export {
  contentMtime,
  hashBuffer,
  OBJECT_MODE,
  OBJECT_MODE_EXEC,
  writeHashedBufferSync,
  type HashedBuffer,
} from './write-buffer.js';

export interface StoredObject {
  integrity: string;
  key: string;
  size: number;
  /** true when this call wrote the object; false when it was already in the store */
  written: boolean;
}

/** Concurrent writes of one object inside this process share one write (cacache moveOperations). */
const inflight = new Map<string, Promise<boolean>>();

async function mkdirOnce(dir: string): Promise<void> {
  if (madeDirs.has(dir)) return;
  await fsp.mkdir(dir, { recursive: true });
  madeDirs.add(dir);
}

/** Run `fn`; if a directory the cache believed in has gone (the store was removed), forget and retry once. */
async function withFreshDirs<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT' || madeDirs.size === 0) throw err;
    madeDirs.clear();
    return fn();
  }
}

/**
 * An object at `key` that a stat cannot fault: a regular file of `size` bytes with the key's exec
 * bit. For callers that hold a hashed copy of the bytes and would rather replace a damaged object
 * than trust it (import).
 */
export async function hasIntactObject(
  layout: StoreLayout,
  key: string,
  size: number,
): Promise<boolean> {
  return (await statPresence(objectPath(layout, key), size, parseObjectKey(key).exec)) === 'intact';
}

export async function hasObject(layout: StoreLayout, key: string): Promise<boolean> {
  try {
    await fsp.access(objectPath(layout, key));
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
}

async function stampObject(tmp: string, key: string): Promise<void> {
  const t = contentMtime(key);
  await fsp.utimes(tmp, t, t);
}

/** Present, a regular file, of this size, with the key's exec bit: all a stat can tell. */
async function statPresence(dest: string, size: number, exec: boolean): Promise<Presence> {
  const st = await fsp.lstat(dest).catch((err: unknown) => {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  });
  if (!st) return 'absent';
  return st.isFile() && st.size === size && ((st.mode & 0o100) !== 0) === exec
    ? 'intact'
    : 'damaged';
}

/**
 * Move a complete temp file to the object's name unless an intact object is there already (an
 * object is trusted only once hashed or written by pstore: a damaged one is replaced, which is how
 * re-adding repairs the store). Returns true when the object was absent or damaged.
 */
async function placeObject(
  layout: StoreLayout,
  key: string,
  produce: () => Promise<string>,
  presence: (dest: string) => Promise<Presence>,
): Promise<boolean> {
  // Keyed by path, not by key: two stores in one process must not wait on each other's writes.
  const slot = objectPath(layout, key);
  const existing = inflight.get(slot);
  if (existing) {
    await existing;
    return false;
  }
  const work = withFreshDirs(async () => {
    const dest = objectPath(layout, key);
    const found = await presence(dest);
    if (found === 'intact') return false;
    await mkdirOnce(path.dirname(dest));
    const tmp = await produce();
    try {
      await stampObject(tmp, key);
      crashpoint('object:before-rename');
      // rename() may replace an object another process placed meanwhile: same bytes, so harmless.
      await fsp.rename(tmp, dest);
    } catch (err) {
      await fsp.rm(tmp, { force: true }); // a failure (a full disk) leaves nothing in tmp/
      throw err;
    }
    return true;
  });
  inflight.set(slot, work);
  try {
    return await work;
  } finally {
    inflight.delete(slot);
  }
}

/**
 * {@link hashBuffer} on a thread-pool thread: WebCrypto's digest is Node's one hash that runs off
 * the calling thread (it copies `data` first), so the caller reads and hashes other files
 * meanwhile, on the second core when there is one. Costs a round trip and a promise: for large
 * buffers only.
 */
export async function hashBufferOffThread(data: Uint8Array, exec: boolean): Promise<HashedBuffer> {
  return hashedByDigest(Buffer.from(await webcrypto.subtle.digest('SHA-512', data)), data, exec);
}

/** Stream a large file into the store: hash while copying to a temp file, then place it. */
export async function writeObjectFromStream(
  layout: StoreLayout,
  source: Readable,
  exec: boolean,
): Promise<StoredObject> {
  await mkdirOnce(layout.tmp);
  const tmp = tmpName(layout.tmp, 'obj');
  const hasher = ssri.integrityStream({ algorithms: ['sha512'] });
  let integrity: ssri.Integrity | undefined;
  let size = 0;
  hasher.on('integrity', (i: ssri.Integrity) => {
    integrity = i;
  });
  hasher.on('size', (s: number) => {
    size = s;
  });
  try {
    await pipeline(
      source,
      hasher,
      createWriteStream(tmp, { mode: exec ? OBJECT_MODE_EXEC : OBJECT_MODE, flags: 'wx' }),
    );
    if (!integrity) throw new Error('hash stream ended without an integrity');
    const key = objectKey(integrity.hexDigest(), exec);
    const written = await placeObject(
      layout,
      key,
      async () => tmp,
      (dest) => hashPresence(dest, size, exec, integrity!.toString()),
    );
    await fsp.rm(tmp, { force: true }); // renamed already, unless a write of this process placed it
    return { integrity: integrity.toString(), key, size, written };
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw withPath(err, tmp);
  }
}

/**
 * A large present object is trusted only if its bytes hash to `integrity` (reading it costs less
 * than writing it again, and renaming over it would part it from the prefix files linked to it).
 */
async function hashPresence(
  dest: string,
  size: number,
  exec: boolean,
  integrity: string,
): Promise<Presence> {
  const presence = await statPresence(dest, size, exec);
  if (presence !== 'intact') return presence;
  const found = await hashStream(createReadStream(dest)).catch((err: unknown) => {
    if (errnoCode(err) === 'ENOENT') return undefined; // removed meanwhile (a repair): write it
    throw err;
  });
  return found === integrity ? 'intact' : found === undefined ? 'absent' : 'damaged';
}

async function hashStream(source: Readable): Promise<string> {
  return (await ssri.fromStream(source, { algorithms: ['sha512'] })).toString();
}

/**
 * A large file that can be read twice (a file of a tree; `read` opens a stream from its start):
 * hash it first and write it only when no intact equal object is present, so re-adding a tree
 * writes none of its large objects again.
 */
export async function writeObjectFromFile(
  layout: StoreLayout,
  read: () => Readable,
  size: number,
  exec: boolean,
): Promise<StoredObject> {
  const integrity = await hashStream(read());
  const key = objectKey(hexOf(integrity), exec);
  if ((await hashPresence(objectPath(layout, key), size, exec, integrity)) === 'intact')
    return { integrity, key, size, written: false };
  return writeObjectFromStream(layout, read(), exec);
}

export interface ObjectCheck {
  key: string;
  status: 'ok' | 'missing' | 'corrupt';
  /** what the bytes hash to now, when corrupt */
  found?: string;
}

/** Rehash one object; the expected integrity comes from the manifest that references it. */
export async function checkObject(
  layout: StoreLayout,
  key: string,
  integrity: string,
): Promise<ObjectCheck> {
  const file = objectPath(layout, key);
  try {
    const found = await ssri.fromStream(createReadStream(file), { algorithms: ['sha512'] });
    return found.toString() === integrity
      ? { key, status: 'ok' }
      : { key, status: 'corrupt', found: found.toString() };
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return { key, status: 'missing' };
    throw err;
  }
}
