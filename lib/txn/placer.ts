// The second placing thread of a big apply as the main thread sees it (SPEC.md §Plan, *Two
// threads*): whether a plan gets one, started early (warmPlaceWorker, as the checks begin) so that
// its start-up overlaps them, taken by the apply, and ended by the transaction either way.
// `PSTORE_PLACE_THREADS=1` turns it off (A/B measurements), `=2` on for any plan with a file.

import type { Worker } from 'node:worker_threads';
import { startWorker } from '../core/heap-growth.js';
import { threadCount } from '../core/thread-count.js';
import { reviveError } from '../core/thread-error.js';
import type { PlaceJob, PlaceReply } from './place-worker.js';

/**
 * Files below which one thread places all: a worker costs ~30 ms of start-up on its own core and
 * a few ms to hand it its half; below this the half it takes is not worth more.
 */
export const THREADED_MIN_PLACE = 2000;

/** How many threads place a plan of `files` files here. */
export function placeThreads(files: number, setting = process.env.PSTORE_PLACE_THREADS): 1 | 2 {
  return threadCount(files, THREADED_MIN_PLACE, setting);
}

/**
 * The worker could not run a job: it did not start, it died, or a message could not cross. It
 * placed nothing more after that, so its share can be done on the main thread instead.
 */
export class WorkerGone extends Error {}

/**
 * One worker thread answering jobs one at a time, in the order they were posted: each asker waits
 * in line for its own reply (a check's share still under way when the apply asks, or two
 * transactions of one process that found the same warm worker).
 */
export class PlaceWorker {
  private readonly worker: Worker;
  /** the askers waiting, oldest first */
  private readonly waiting: Array<(reply: PlaceReply | WorkerGone) => void> = [];
  private gone: WorkerGone | undefined;

  constructor() {
    this.worker = startWorker(new URL('./place-worker.js', import.meta.url));
    this.worker.unref(); // idle, it keeps no process alive
    this.worker.on('message', (m: PlaceReply) => this.answer(m));
    this.worker.on('messageerror', (err) => this.end(err));
    this.worker.on('error', (err) => this.end(err));
    this.worker.on('exit', (code) => this.end(new Error(`the place worker exited (${code})`)));
  }

  /**
   * Post a job and wait for its reply. The worker's own failure is thrown as the error one thread
   * would throw; a worker that cannot answer, as {@link WorkerGone}.
   */
  async ask<R extends PlaceReply>(job: PlaceJob): Promise<Exclude<R, { failed: unknown }>> {
    if (this.gone) throw this.gone;
    const reply = await new Promise<PlaceReply | WorkerGone>((resolve) => {
      this.waiting.push(resolve);
      if (this.waiting.length === 1) this.worker.ref(); // a job under way keeps the process alive
      try {
        this.worker.postMessage(job);
      } catch (err) {
        this.waiting.pop(); // never posted: no reply will come for it
        if (this.waiting.length === 0) this.worker.unref();
        throw err;
      }
    });
    if (reply instanceof WorkerGone) throw reply;
    if ('failed' in reply) throw reviveError(reply.failed);
    return reply as Exclude<R, { failed: unknown }>;
  }

  /**
   * End the thread without waiting for it, once it places nothing more (it answered every job it
   * was asked, or was never asked to place). Its isolate's teardown (15-30 ms here) then overlaps
   * the apply's flush and commit, or the transaction's end, instead of preceding them.
   */
  release(): void {
    void this.worker.terminate();
  }

  private answer(m: PlaceReply): void {
    this.waiting.shift()?.(m);
    if (this.waiting.length === 0) this.worker.unref();
  }

  private end(err: Error): void {
    this.gone ??= new WorkerGone(`the place worker is gone: ${err.message}`, { cause: err });
    for (const resolve of this.waiting.splice(0)) resolve(this.gone);
    // A reply that could not cross leaves the thread running its queued jobs: the askers were
    // told it is gone and do their shares themselves, so it must place nothing more.
    void this.worker.terminate();
  }
}

/** Started as the checks of a plan this big begin, taken by its apply, else ended. */
let warm: PlaceWorker | undefined;

/** Start the worker a plan of `files` files will use, so that its start-up overlaps the checks. */
export function warmPlaceWorker(files: number): void {
  if (placeThreads(files) === 2) warm ??= new PlaceWorker();
}

/** The warm worker, if one is started and not taken yet: the object check shares its work with it. */
export function warmWorker(): PlaceWorker | undefined {
  return warm;
}

/** The worker for a plan of `files` files (the warm one, else a new one), or none. */
export function takePlaceWorker(files: number): PlaceWorker | undefined {
  if (placeThreads(files) === 1) return undefined;
  const w = warm ?? new PlaceWorker();
  warm = undefined;
  return w;
}

/**
 * End a warm worker no apply took (the transaction failed or stopped before it), without waiting
 * for its thread: it placed nothing, and a check it may still be running only looks.
 */
export function dropWarmPlaceWorker(): void {
  const w = warm;
  warm = undefined;
  w?.release();
}
