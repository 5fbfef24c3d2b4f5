// A big apply's directories and files on two threads (SPEC.md §Step order, step b, *Two threads*).
// Making a directory and linking a file are one system call each, all of it the kernel's work,
// and the kernel runs two of them side by side in different directories; a second thread takes
// half of each list. Started early (warmPlaceWorker, from the checks) so that its start-up
// overlaps them; `PSTORE_PLACE_THREADS=1` turns it off (A/B measurements), `=2` on for any plan.

import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { PstoreError } from '../core/errors.js';
import { crashpoint } from '../core/crashpoint.js';
import { reviveError } from '../core/thread-error.js';
import { parentOf } from '../core/safe-path.js';
import type { ProgressListener } from '../core/types.js';
import { makeDirs, placeFile, type PlaceContext } from './place.js';
import type { Plan } from './plan.js';
import {
  PLACED,
  STOP,
  type DirsJob,
  type FilesJob,
  type PlaceJob,
  type PlaceReply,
} from './place-worker.js';

/**
 * Files below which one thread places all: a worker costs ~30 ms of start-up on its own core and
 * a few ms to hand it its half; below this the half it takes is not worth more.
 */
export const THREADED_MIN_PLACE = 2000;

/** Run from TypeScript source (tsx): a worker's `.ts` module cannot load (as dir-threads.ts). */
const FROM_SOURCE = import.meta.url.endsWith('.ts');

/** How many threads place a plan of `files` files here. */
export function placeThreads(files: number, setting = process.env.PSTORE_PLACE_THREADS): 1 | 2 {
  if (setting === '1' || files === 0 || FROM_SOURCE) return 1;
  if (setting === '2') return 2;
  return os.availableParallelism() >= 2 && files >= THREADED_MIN_PLACE ? 2 : 1;
}

/** One worker thread answering place jobs, one at a time. */
export class PlaceWorker {
  private readonly worker: Worker;
  private waiting: ((reply: PlaceReply | Error) => void) | undefined;
  private gone: Error | undefined;

  constructor() {
    this.worker = new Worker(new URL('./place-worker.js', import.meta.url), {
      stdout: false,
      stderr: false,
    });
    this.worker.unref(); // idle, it keeps no process alive
    this.worker.on('message', (m: PlaceReply) => this.answer(m));
    this.worker.on('error', (err) => this.end(err));
    this.worker.on('exit', (code) =>
      this.end(new PstoreError('EPSTORE_INTERNAL', `the place worker exited (${code})`)),
    );
  }

  /** Post a job; its reply, the worker's failure revived as the error one thread would throw. */
  async ask<R extends PlaceReply>(job: PlaceJob): Promise<Exclude<R, { failed: unknown }>> {
    if (this.gone) throw this.gone;
    this.worker.ref();
    const reply = await new Promise<PlaceReply | Error>((resolve) => {
      this.waiting = resolve;
      this.worker.postMessage(job);
    });
    this.worker.unref();
    if (reply instanceof Error) throw reply;
    if ('failed' in reply) throw reviveError(reply.failed);
    return reply as Exclude<R, { failed: unknown }>;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private answer(m: PlaceReply): void {
    const resolve = this.waiting;
    this.waiting = undefined;
    resolve?.(m);
  }

  private end(err: Error): void {
    this.gone ??= err;
    this.answer({ failed: { message: err.message, name: err.name, stack: err.stack } });
  }
}

/** Started by the checks of a plan this big, taken by its apply. */
let warm: PlaceWorker | undefined;

/** Start the worker a plan of `files` files will use, so that its start-up overlaps the checks. */
export function warmPlaceWorker(files: number): void {
  if (placeThreads(files) === 2) warm ??= new PlaceWorker();
}

/** The worker for a plan of `files` files (the warm one, else a new one), or none. */
export function takePlaceWorker(files: number): PlaceWorker | undefined {
  if (placeThreads(files) === 1) return undefined;
  const w = warm ?? new PlaceWorker();
  warm = undefined;
  return w;
}

/** What a job of this apply names besides its own list. */
function jobBase(ctx: PlaceContext, shared: SharedArrayBuffer) {
  const { store, root, txid, linker } = ctx;
  return { store, root, txid, link: linker.mode, method: linker.method, shared };
}

/**
 * (b) on two threads: the directories (half each; the parents the worker's half needs from the
 * main thread's made first), then `between` on the main thread with every directory there, then
 * the files (half each). Returns the directories this call created. Whichever thread fails first
 * stops the other; nothing is placed after this returns or throws.
 */
export async function placeOnTwoThreads(
  ctx: PlaceContext,
  plan: Plan,
  worker: PlaceWorker,
  between: (created: Set<string>) => void,
  onProgress?: ProgressListener,
): Promise<void> {
  const shared = new SharedArrayBuffer(8);
  const base = jobBase(ctx, shared);
  const dirs = [...plan.mkdirs].sort();
  const half = dirs.length >> 1;
  const mine = dirs.slice(0, half);
  const spine = parentsFrom(dirs.slice(half), new Set(mine));
  const created = makeDirs(ctx, spine);
  const madeFirst = new Set(spine);
  const theirDirs = worker.ask<{ made: string[] }>({
    ...base,
    kind: 'dirs',
    dirs: dirs.slice(half),
  } satisfies DirsJob);
  await alongside(shared, theirDirs, () => {
    for (const d of makeDirs(
      ctx,
      mine.filter((d) => !madeFirst.has(d)),
    ))
      created.add(d);
  });
  for (const d of (await theirDirs).made) created.add(d);
  between(created);
  const total = plan.place.length;
  const split = total >> 1;
  const theirFiles = worker.ask<{ placed: { wroteData: boolean } }>({
    ...base,
    kind: 'files',
    files: plan.place.slice(split),
    srcs: plan.objectPaths?.slice(split),
  } satisfies FilesJob);
  await alongside(shared, theirFiles, () => placeHalf(ctx, plan, split, shared, onProgress));
  const { placed } = await theirFiles;
  if (placed.wroteData) ctx.dirty.wroteData();
  ctx.dirty.everywhere(); // the worker's directories are not in this thread's set
}

/** The main thread's half of the files: plan.place[0, end). */
function placeHalf(
  ctx: PlaceContext,
  plan: Plan,
  end: number,
  shared: SharedArrayBuffer,
  onProgress?: ProgressListener,
): void {
  const flags = new Int32Array(shared);
  const total = plan.place.length;
  for (let i = 0; i < end; i++) {
    if (Atomics.load(flags, STOP) !== 0) return; // the worker failed: its reply says why
    crashpoint('apply:file');
    const { file, replace } = plan.place[i]!;
    placeFile(ctx, file, replace, plan.objectPaths?.[i]);
    if ((i + 1) % 500 === 0)
      onProgress?.({
        phase: 'link',
        unit: 'files',
        done: i + 1 + Atomics.load(flags, PLACED),
        total,
      });
  }
}

/**
 * Run `mine` while the worker runs its job. A failure here stops the worker and waits for its
 * reply before it is thrown: nothing is placed once the apply has failed (its revert follows).
 */
async function alongside(
  shared: SharedArrayBuffer,
  theirs: Promise<unknown>,
  mine: () => void,
): Promise<void> {
  try {
    mine();
  } catch (err) {
    Atomics.store(new Int32Array(shared), STOP, 1);
    await theirs.catch(() => {});
    throw err;
  }
}

/**
 * The directories of `mine` that `theirs` need as parents, with their own parents in `mine`:
 * made by the main thread before the worker starts on `theirs`. Sorted: parents first.
 */
export function parentsFrom(theirs: readonly string[], mine: ReadonlySet<string>): string[] {
  const needed = new Set<string>();
  for (const d of theirs) {
    for (let p = parentOf(d); mine.has(p) && !needed.has(p); p = parentOf(p)) needed.add(p);
  }
  return [...needed].sort();
}
