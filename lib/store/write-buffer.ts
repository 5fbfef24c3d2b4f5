// In-memory objects written with synchronous calls (SPEC.md §Objects): hashed once, placed by a
// temp file in tmp/ renamed onto the object's name, an intact present object (bytes equal) kept.
// Apart from objects.ts so that an ingest worker thread (lib/ingest/dir-worker.ts) loads only this
// and none of the streaming code (ssri, streams). Invariant as objects.ts: a name under
// objects-v1/ appears only by rename() of a complete temp file; nothing is flushed here.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../core/errors.js';
import { tmpName } from '../fs/atomic.js';
import { ScratchReader } from '../fs/scratch-read.js';
import { withPath } from '../fs/errno.js';
import { crashpoint } from '../core/crashpoint.js';
import { objectKey, parseObjectKey } from '../core/object-key.js';
import { objectPath, threadTmpDir, type StoreLayout } from './layout.js';

export const OBJECT_MODE = 0o444;
export const OBJECT_MODE_EXEC = 0o555;

/** Directories made (or found) already in this thread: objects.ts's async writes share it. */
export const madeDirs = new Set<string>();

/**
 * Every object's mtime is derived from its content (SPEC.md §Object mtimes). Hard links share it,
 * and Python trusts a .pyc whose recorded source mtime and size match: with per-content mtimes, a
 * .pyc compiled from one version of a module never validates against another of the same size,
 * even when an importer racing an upgrade writes it after pstore swept the old ones.
 */
export function contentMtime(hex: string): Date {
  // 2^28 distinct seconds from 2001-09-09 on: two differing same-size modules collide with p = 2^-28.
  const seconds = 1_000_000_000 + (parseInt(hex.slice(0, 7), 16) & 0x0fffffff);
  return new Date(seconds * 1000);
}

/**
 * What is at an object's name: nothing, an object pstore can vouch for, or something else (bytes,
 * size or mode changed since it was placed: a hard-linked prefix file appended to, a planted file).
 */
export type Presence = 'absent' | 'intact' | 'damaged';

export interface HashedBuffer {
  integrity: string;
  key: string;
  size: number;
  data: Uint8Array;
}

/**
 * Hash in memory, synchronously: callers that must record a member in order use this first. One
 * digest gives both forms (ssri's `sha512-BASE64` and the key's hex) without ssri's parsing.
 */
export function hashBuffer(data: Uint8Array, exec: boolean): HashedBuffer {
  return hashedByDigest(createHash('sha512').update(data).digest(), data, exec);
}

export function hashedByDigest(digest: Buffer, data: Uint8Array, exec: boolean): HashedBuffer {
  return {
    integrity: `sha512-${digest.toString('base64')}`,
    key: objectKey(digest.toString('hex'), exec),
    size: data.byteLength,
    data,
  };
}

/** {@link statPresence} without a promise. */
function statPresenceSync(dest: string, size: number, exec: boolean): Presence {
  const st = fs.lstatSync(dest, { throwIfNoEntry: false });
  if (!st) return 'absent';
  return st.isFile() && st.size === size && ((st.mode & 0o100) !== 0) === exec
    ? 'intact'
    : 'damaged';
}

/** A small object is trusted only if its bytes equal the ones just hashed (a read, no hash). */
function bufferPresenceSync(dest: string, data: Uint8Array, exec: boolean): Presence {
  const presence = statPresenceSync(dest, data.byteLength, exec);
  if (presence !== 'intact') return presence;
  let now: Uint8Array;
  try {
    now = readPresentSync(dest, data.byteLength);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return 'absent';
    throw err;
  }
  return Buffer.compare(now, data) === 0 ? 'intact' : 'damaged';
}

/** Present objects are compared through one buffer (compared at once, never kept). */
const presentReader = new ScratchReader();

/** The first `size` bytes of a present object (one byte more, so that a grown file differs). */
function readPresentSync(dest: string, size: number): Uint8Array {
  const fd = fs.openSync(dest, 'r');
  try {
    return presentReader.read(fd, size + 1);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Write a small object with synchronous calls: each async call would cost a thread-pool round
 * trip, and a wheel or a tree of small files would pay it ~6 times per object. The protocol: a temp file in tmp/, its content mtime, rename onto the name; an
 * intact present object (its bytes equal) is kept, not rewritten; nothing is flushed here.
 */
export function writeHashedBufferSync(layout: StoreLayout, hashed: HashedBuffer): boolean {
  try {
    return placeBufferSync(layout, hashed);
  } catch (err) {
    // A directory the cache believed in has gone (the store was removed): forget and retry once.
    if (errnoCode(err) !== 'ENOENT' || madeDirs.size === 0) throw err;
    madeDirs.clear();
    return placeBufferSync(layout, hashed);
  }
}

function placeBufferSync(layout: StoreLayout, hashed: HashedBuffer): boolean {
  const exec = parseObjectKey(hashed.key).exec;
  const dest = objectPath(layout, hashed.key);
  const found = bufferPresenceSync(dest, hashed.data, exec);
  if (found === 'intact') return false;
  const tmpDir = threadTmpDir(layout);
  mkdirOnceSync(tmpDir);
  mkdirOnceSync(path.dirname(dest));
  const tmp = tmpName(tmpDir, 'obj');
  try {
    writeStampedSync(tmp, hashed.data, exec, contentMtime(hashed.key));
    crashpoint('object:before-rename');
    fs.renameSync(tmp, dest);
  } catch (err) {
    fs.rmSync(tmp, { force: true }); // a failure (a full disk) leaves nothing in tmp/
    throw withPath(err, tmp);
  }
  return true;
}

function writeStampedSync(tmp: string, data: Uint8Array, exec: boolean, mtime: Date): void {
  const fd = fs.openSync(tmp, 'wx', exec ? OBJECT_MODE_EXEC : OBJECT_MODE);
  try {
    fs.writeFileSync(fd, data);
    fs.futimesSync(fd, mtime, mtime);
  } finally {
    fs.closeSync(fd);
  }
}

function mkdirOnceSync(dir: string): void {
  if (madeDirs.has(dir)) return;
  fs.mkdirSync(dir, { recursive: true });
  madeDirs.add(dir);
}
