// The object check's loop (SPEC.md §Check), shared by the main thread and the warm placing worker
// of a big plan (place-worker.ts): one lstat per object, looking for an inode that cannot stand for
// the manifest's file (not a regular file of its size with its key's exec bit). Apart from
// object-check.ts so that the worker loads this alone. The two threads claim chunks of the plan's
// files from one shared cursor, so a worker still starting takes what is left when it is up.

import fs from 'node:fs';
import { fileObjectPath, type StoreLayout } from '../store/layout.js';

export const MISSING = 'it is missing';

/** Why the object at `file` cannot stand for a file of `size` bytes and `exec`, or undefined. */
export function shapeDamage(file: string, size: number, exec: boolean): string | undefined {
  const st = fs.lstatSync(file, { throwIfNoEntry: false });
  if (!st) return MISSING;
  if (!st.isFile()) return 'it is not a regular file';
  if (st.size !== size) return `it has ${st.size} bytes, the manifest says ${size}`;
  if (((st.mode & 0o100) !== 0) !== exec) return `its mode is ${(st.mode & 0o777).toString(8)}`;
  return undefined;
}

/**
 * A plan's placed files as flat arrays, by index of `plan.place` (a symlink's integrity is ''):
 * one structured clone of a few arrays costs far less than one of an object per file.
 */
export interface ShapesJob {
  kind: 'shapes';
  store: StoreLayout;
  integrity: string[];
  sizes: Float64Array;
  exec: Uint8Array;
  /** shared by both threads: the cursor, the stop flag and the worker's start (newClaims) */
  claims: SharedArrayBuffer;
}

/** Slots of `claims`: the next index to claim; set by a thread that met a damaged object; START. */
const NEXT = 0;
const FOUND = 1;
const START = 2;
/** START's values: the worker has not begun, has begun, or will look at nothing. */
const NOT_YET = 0;
const BEGUN = 1;
const CALLED_OFF = 2;

/** The claims of a new job: nothing claimed, nothing found, the worker not begun. */
export function newClaims(): SharedArrayBuffer {
  return new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT);
}

/** The worker, at the job's start: whether it may claim (else the main thread did without it). */
export function beginLooking(claims: SharedArrayBuffer): boolean {
  return Atomics.compareExchange(new Int32Array(claims), START, NOT_YET, BEGUN) === NOT_YET;
}

/**
 * The main thread, its claiming done: whether every file was claimed and the worker has not begun
 * (it never will now and claimed nothing, so this thread looked at every file and the worker's
 * answer need not be waited for).
 */
export function callOffWorker(job: ShapesJob): boolean {
  const claims = new Int32Array(job.claims);
  if (Atomics.load(claims, NEXT) < job.integrity.length) return false;
  return Atomics.compareExchange(claims, START, NOT_YET, CALLED_OFF) === NOT_YET;
}

/** Files claimed at a time: about a millisecond of lstats, so neither thread waits long. */
const CHUNK = 256;

/**
 * Look at the objects of the chunks this thread claims until none is left or either thread met a
 * damaged one; `onPath` learns each object path worked out. The index of the damaged file met, or
 * -1 (none met here: the other thread may have met one).
 */
export function lookAtClaimed(job: ShapesJob, onPath?: (i: number, file: string) => void): number {
  const claims = new Int32Array(job.claims);
  const n = job.integrity.length;
  while (Atomics.load(claims, FOUND) === 0) {
    const from = Atomics.add(claims, NEXT, CHUNK);
    if (from >= n) return -1;
    for (let i = from; i < Math.min(from + CHUNK, n); i++) {
      const integrity = job.integrity[i]!;
      if (integrity === '') continue;
      const exec = job.exec[i] === 1;
      const file = fileObjectPath(job.store, { integrity, exec });
      onPath?.(i, file);
      if (shapeDamage(file, job.sizes[i]!, exec) !== undefined) {
        Atomics.store(claims, FOUND, 1);
        return i;
      }
    }
  }
  return -1;
}

/** Either thread failed otherwise (an lstat error): the other claims nothing more. */
export function stopLooking(claims: SharedArrayBuffer): void {
  Atomics.store(new Int32Array(claims), FOUND, 1);
}
