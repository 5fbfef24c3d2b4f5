// The second thread of a big apply (SPEC.md §Step order, step b, *Two threads*): makes the
// directories and places the files the main thread hands it, with the same code the main thread
// runs (place.ts), and answers each job with what it made or the first failure, as data
// (core/thread-error.ts). It waits for jobs until the main thread ends it.

import { parentPort } from 'node:worker_threads';
import { crashpoint } from '../core/crashpoint.js';
import { sendError, type SentError } from '../core/thread-error.js';
import { DirtyDirs } from '../fs/flush.js';
import type { StoreLayout } from '../store/layout.js';
import { createLinker, type LinkMode } from './link.js';
import { makeDirs, placeFile, type PlaceContext } from './place.js';
import type { PlacedFile } from './plan.js';

/** What both jobs name: where, for which transaction, how files are linked. */
interface JobBase {
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

/** Place these files (their directories exist); `srcs[i]`: file i's object path, if known. */
export interface FilesJob extends JobBase {
  kind: 'files';
  files: Array<{ file: PlacedFile; replace: boolean }>;
  srcs: Array<string | undefined> | undefined;
}

export type PlaceJob = DirsJob | FilesJob;

export type PlaceReply =
  { made: string[] } | { placed: { wroteData: boolean } } | { failed: SentError };

export const STOP = 0;
export const PLACED = 1;
/** The worker adds to PLACED every this many files (progress only). */
export const PLACED_STEP = 256;

function run(job: PlaceJob): PlaceReply {
  const shared = new Int32Array(job.shared);
  const dirty = new DirtyDirs();
  const ctx: PlaceContext = {
    store: job.store,
    root: job.root,
    linker: createLinker(job.link, job.method),
    txid: job.txid,
    dirty,
  };
  try {
    if (job.kind === 'dirs') return { made: [...makeDirs(ctx, job.dirs)] };
    for (let i = 0; i < job.files.length; i++) {
      if (Atomics.load(shared, STOP) !== 0) break; // the main thread failed: place nothing more
      crashpoint('apply:file');
      const { file, replace } = job.files[i]!;
      placeFile(ctx, file, replace, job.srcs?.[i]);
      if ((i + 1) % PLACED_STEP === 0) Atomics.add(shared, PLACED, PLACED_STEP);
    }
    // a copy or a reflink wrote data the main thread's flush must cover (place.ts createAt)
    return { placed: { wroteData: dirty.wholeFilesystemNeeded } };
  } catch (err) {
    Atomics.store(shared, STOP, 1);
    return { failed: sendError(err) };
  }
}

if (parentPort) {
  const port = parentPort;
  port.on('message', (job: PlaceJob) => port.postMessage(run(job)));
}
