// The second thread of a directory ingest (SPEC.md §Ingest, threads). Reading, hashing and placing
// a small file is ~10 system calls and a hash, all on the calling thread; one worker thread taking
// whole files from the same list as the main thread spreads them over two cores. Started only
// where it can pay: two cores or more, and enough files to cover its start-up (a new isolate,
// its modules). `PSTORE_INGEST_THREADS=1` turns it off (A/B measurements), `=2` on for any tree.

import type { Worker } from 'node:worker_threads';
import { startWorker } from '../core/heap-growth.js';
import { PstoreError } from '../core/errors.js';
import { threadCount } from '../core/thread-count.js';
import type { WorkerMessage, WorkerStart } from './dir-worker.js';
import type { FileClaims } from './shared-work.js';
import { reviveError } from '../core/thread-error.js';

/**
 * Files below which one thread does all: a worker's start-up (~25 ms of CPU on its own thread, ~3 ms
 * on the main one) is worth it only when the main thread hands it at least that much work.
 */
export const THREADED_MIN_FILES = 256;

/** How many threads ingest a tree of `files` files (each stored whole) here. */
export function ingestThreads(files: number, setting = process.env.PSTORE_INGEST_THREADS): 1 | 2 {
  return threadCount(files, THREADED_MIN_FILES, setting);
}

/**
 * Test hook (SPEC.md §Testing hooks): the main thread takes no file of the shared list, so tests
 * drive the worker's path (its errors, its crash points) deterministically.
 */
export const workerTakesAll = process.env.PSTORE_TEST_INGEST_WORKER_ONLY === '1';

/** What the main thread is told of each file the worker stored. */
export type StoredListener = (
  index: number,
  integrity: string,
  size: number,
  exec: boolean,
  written: boolean,
) => void;

/**
 * One worker thread storing files of a shared list, as seen from the main thread. Started as soon
 * as the walk has found enough files, so that its start-up overlaps the rest of the walk; it waits
 * for its list (`begin`) once the walk is done.
 */
export class IngestWorker {
  private failure: unknown;
  private done = false;
  private claims: FileClaims | undefined;
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  /** resolved by the worker's last message (`done`), or by its exit if it never sends one */
  private readonly ended: Promise<void>;
  private endNow: () => void = () => {};

  constructor(private readonly onStored: StoredListener) {
    this.worker = startWorker(new URL('./dir-worker.js', import.meta.url));
    this.worker.on('message', (m: WorkerMessage) => this.receive(m));
    this.worker.on('error', (err) => this.fail(err));
    this.ended = new Promise((resolve) => (this.endNow = resolve));
    this.exited = new Promise((resolve) =>
      this.worker.on('exit', (code) => {
        if (!this.done && this.claims !== undefined)
          this.fail(
            new PstoreError('EPSTORE_INTERNAL', `the ingest worker exited (${code}) unfinished`),
          );
        resolve();
        this.endNow();
      }),
    );
  }

  /** Hand the worker its list: from now on it takes files of it. */
  begin(start: WorkerStart, claims: FileClaims): void {
    this.claims = claims;
    this.worker.postMessage(start);
  }

  /** The worker's first failure (or the listener's): the main thread stops taking files. */
  get failed(): unknown {
    return this.failure;
  }

  /**
   * Wait for the worker's last message (it stores nothing after it; its thread's teardown, 15-30 ms
   * here, overlaps the flush and the manifest); its failure, if any, as the error the main thread
   * would throw.
   */
  async finish(): Promise<void> {
    await this.ended;
    if (this.failure !== undefined) throw this.failure;
  }

  /**
   * The main thread failed (or was aborted): the worker takes no more files and ends after the one
   * it holds (or at once, if it has no list yet), so nothing is placed after the ingest returned.
   */
  async abandon(): Promise<void> {
    if (this.claims === undefined) await this.worker.terminate();
    else this.claims.stop();
    await this.exited;
  }

  private fail(err: unknown): void {
    this.failure ??= err;
    this.claims?.stop();
  }

  private receive(m: WorkerMessage): void {
    try {
      if ('stored' in m) {
        const s = m.stored;
        for (let j = 0; j < s.length; j += 4) {
          const flags = s[j + 3] as number;
          this.onStored(
            s[j] as number,
            s[j + 1] as string,
            s[j + 2] as number,
            (flags & 1) !== 0,
            (flags & 2) !== 0,
          );
        }
      } else if ('failed' in m) this.fail(reviveError(m.failed));
      else {
        this.done = true;
        this.endNow();
      }
    } catch (err) {
      this.fail(err); // the listener's own failure (an abort seen by progress)
    }
  }
}
