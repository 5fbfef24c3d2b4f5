// The second thread of a big apply (SPEC.md §Plan, *Two threads*): makes the
// directories and places the files the main thread hands it, with the same code the main thread
// runs (place.ts), and answers each job with what it made or the first failure, as data
// (core/thread-error.ts). It waits for jobs until the main thread ends it. Warm before the apply,
// it takes a share of the object check too (object-shapes.ts, SPEC.md §Check *Two threads*).

import { parentPort } from 'node:worker_threads';
import { crashpoint } from '../core/crashpoint.js';
import { sendError, type SentError } from '../core/thread-error.js';
import { DirtyDirs } from '../fs/flush.js';
import type { StoreLayout } from '../store/layout.js';
import { createLinker, type LinkerState, type LinkMode } from './link.js';
import { makeDirs, placeAt, type PlaceContext } from './place.js';
import { beginLooking, lookAtClaimed, stopLooking, type ShapesJob } from './object-shapes.js';

/** What both placing jobs name: where, for which transaction, how files are linked. */
export interface JobBase {
  store: StoreLayout;
  root: string;
  txid: string;
  link: LinkMode;
  /** the method the main thread's linker settled on already (`auto` if none yet) */
  method: LinkMode;
  /** [0]: set by either thread to stop the other; [1]: files the worker placed so far */
  shared: SharedArrayBuffer;
}

/** Make these directories (sorted: parents first; any parent not among them exists already). */
export interface DirsJob extends JobBase {
  kind: 'dirs';
  dirs: string[];
}

/**
 * Place these names (their directories exist), as flat arrays: one structured clone of a few
 * arrays costs far less time and memory than one of an object per file. `sources[i]`: a symlink's
 * target or a file's object path; `kinds[i]`: SYMLINK and REPLACE bits.
 */
export interface FilesJob extends JobBase {
  kind: 'files';
  paths: string[];
  sources: string[];
  kinds: Uint8Array;
}

export const SYMLINK = 1;
export const REPLACE = 2;

export type PlaceJob = DirsJob | FilesJob | ShapesJob;

export type PlaceReply =
  | { made: string[] }
  | { placed: LinkerState }
  /** a shapes job's answer: the index of the damaged file it met, else -1 */
  | { looked: number }
  | { failed: SentError };

export const STOP = 0;
export const PLACED = 1;
/** The worker adds to PLACED every this many files (progress only). */
export const PLACED_STEP = 256;

/**
 * Test hook (SPEC.md §Testing hooks): the thread ends on its first files job (`1`), placing
 * nothing, or on its share of the object check (`check`), looking at nothing.
 */
const exitOn = process.env.PSTORE_TEST_PLACE_WORKER_EXIT;
const EXIT_VALUE: Partial<Record<PlaceJob['kind'], string>> = { files: '1', shapes: 'check' };

function run(job: PlaceJob): PlaceReply {
  if (exitOn !== undefined && EXIT_VALUE[job.kind] === exitOn) process.exit(1); // this thread alone
  if (job.kind === 'shapes') return look(job);
  const shared = new Int32Array(job.shared);
  const ctx: PlaceContext = {
    store: job.store,
    root: job.root,
    linker: createLinker(job.link, job.method),
    txid: job.txid,
    dirty: new DirtyDirs(),
  };
  try {
    if (job.kind === 'dirs') return { made: [...makeDirs(ctx, job.dirs)] };
    for (let i = 0; i < job.paths.length; i++) {
      if (Atomics.load(shared, STOP) !== 0) break; // the main thread failed: place nothing more
      crashpoint('apply:file');
      const kind = job.kinds[i]!;
      const from = kind & SYMLINK ? { symlink: job.sources[i]! } : { object: job.sources[i]! };
      placeAt(ctx, job.paths[i]!, from, (kind & REPLACE) !== 0);
      if ((i + 1) % PLACED_STEP === 0) Atomics.add(shared, PLACED, PLACED_STEP);
    }
    // the main thread's flush is one syncfs, which covers data a copy or a reflink wrote
    const { method, onlyHardLinks } = ctx.linker;
    return { placed: { method, onlyHardLinks } };
  } catch (err) {
    Atomics.store(shared, STOP, 1);
    return { failed: sendError(err) };
  }
}

/** The object check's share this thread claims (object-shapes.ts), unless it came too late. */
function look(job: ShapesJob): PlaceReply {
  try {
    return { looked: beginLooking(job.claims) ? lookAtClaimed(job) : -1 };
  } catch (err) {
    stopLooking(job.claims);
    return { failed: sendError(err) }; // an lstat failed (EACCES, EIO)
  }
}

if (parentPort) {
  const port = parentPort;
  port.on('message', (job: PlaceJob) => port.postMessage(run(job)));
  // a job that could not cross is answered all the same: the main thread must not wait forever
  port.on('messageerror', (err) => port.postMessage({ failed: sendError(err) }));
}
