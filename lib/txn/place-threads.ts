// A big apply's directories and files on two threads (SPEC.md §Plan, *Two threads*). Making a
// directory and linking a file are one system call each, all of it the kernel's work, and the
// kernel runs two of them side by side in different directories; a second thread (placer.ts)
// takes half of each list. Whichever thread fails first stops the other, and the main thread
// waits for the worker before it throws; a worker that cannot run has its share done here.

import { parentOf } from '../core/safe-path.js';
import type { ProgressListener } from '../core/types.js';
import { makeDirs, placeRange, sourceOf, type PlaceContext } from './place.js';
import type { Plan } from './plan.js';
import {
  PLACED,
  REPLACE,
  STOP,
  SYMLINK,
  type FilesJob,
  type JobBase,
  type PlaceReply,
} from './place-worker.js';
import { WorkerGone, type PlaceWorker } from './placer.js';

/** What both threads of one apply share: the job's names, the stop flag and the worker's count. */
interface Pair {
  ctx: PlaceContext;
  worker: PlaceWorker;
  shared: SharedArrayBuffer;
  flags: Int32Array;
}

/** What the main thread does besides its share (placeOnTwoThreads). */
export interface Alongside {
  /** run with every directory there (given those made now), before the files */
  between: (created: Set<string>) => void;
  /** called once this thread's share of the files is placed, before it waits for the worker's */
  waiting: () => void;
}

/**
 * (b) on two threads: the directories (half each), then `between` on the main thread, then the
 * files (half each). Nothing is placed once this has returned or thrown.
 */
export async function placeOnTwoThreads(
  ctx: PlaceContext,
  plan: Plan,
  worker: PlaceWorker,
  { between, waiting }: Alongside,
  onProgress?: ProgressListener,
): Promise<void> {
  const shared = new SharedArrayBuffer(8);
  const pair: Pair = { ctx, worker, shared, flags: new Int32Array(shared) };
  between(await makeDirsOnTwo(pair, plan.mkdirs));
  await placeFilesOnTwo(pair, plan, waiting, onProgress);
  ctx.dirty.everywhere(); // the worker's directories are not in this thread's set
}

/** What a job of this apply names besides its own list. */
function jobBase({ ctx, shared }: Pair): JobBase {
  const { store, root, txid, linker } = ctx;
  return { store, root, txid, link: linker.mode, method: linker.method, shared };
}

/**
 * The sorted directories' second half to the worker; the parents it needs from the first half
 * (and theirs there) are made first, so each thread's `mkdir`s find their parents.
 */
async function makeDirsOnTwo(pair: Pair, mkdirs: readonly string[]): Promise<Set<string>> {
  const { ctx } = pair;
  const dirs = [...mkdirs].sort();
  const half = dirs.length >> 1;
  const [mine, theirs] = [dirs.slice(0, half), dirs.slice(half)];
  const spine = parentsFrom(theirs, new Set(mine));
  const created = makeDirs(ctx, spine);
  const asked = pair.worker.ask<{ made: string[] }>({
    ...jobBase(pair),
    kind: 'dirs',
    dirs: theirs,
  });
  const madeFirst = new Set(spine);
  await alongside(pair, asked, () => {
    for (const d of makeDirs(
      ctx,
      mine.filter((d) => !madeFirst.has(d)),
    ))
      created.add(d);
  });
  const { made } = await orHere(asked, () => ({ made: [...makeDirs(ctx, theirs)] }));
  for (const d of made) created.add(d);
  return created;
}

/**
 * The files' second half to the worker, once this thread has settled the link method on its first
 * regular file (the worker starts from it, as one thread's later files would).
 */
async function placeFilesOnTwo(
  pair: Pair,
  plan: Plan,
  waiting: () => void,
  onProgress?: ProgressListener,
) {
  const { ctx } = pair;
  const total = plan.place.length;
  const split = total >> 1;
  let first = 0;
  for (; first < split && ctx.linker.method === 'auto'; first++)
    placeShare(pair, plan, first, first + 1);
  const asked = pair.worker.ask<Extract<PlaceReply, { placed: unknown }>>({
    ...jobBase(pair),
    ...filesFrom(ctx, plan, split),
  });
  await alongside(pair, asked, () => {
    placeShare(pair, plan, first, split, onProgress);
    waiting();
  });
  const { placed } = await orHere(asked, () => {
    placeShare(pair, plan, split, total, onProgress);
    return { placed: ctx.linker };
  });
  ctx.linker.adopt(placed);
}

/** plan.place[from, end) as the worker's flat arrays (place-worker.ts FilesJob). */
function filesFrom(ctx: PlaceContext, plan: Plan, from: number): Omit<FilesJob, keyof JobBase> {
  const n = plan.place.length - from;
  const paths = new Array<string>(n);
  const sources = new Array<string>(n);
  const kinds = new Uint8Array(n);
  for (let j = 0; j < n; j++) {
    const { file, replace } = plan.place[from + j]!;
    const source = sourceOf(ctx, file, plan.objectPaths?.[from + j]);
    paths[j] = file.path;
    sources[j] = 'symlink' in source ? source.symlink : source.object;
    kinds[j] = ('symlink' in source ? SYMLINK : 0) | (replace ? REPLACE : 0);
  }
  return { kind: 'files', paths, sources, kinds };
}

/** plan.place[from, end) on this thread (place.ts), until the worker stops the work. */
function placeShare(
  { ctx, flags }: Pair,
  plan: Plan,
  from: number,
  end: number,
  onProgress?: ProgressListener,
): void {
  placeRange(ctx, plan, from, end, {
    onProgress,
    stopped: () => Atomics.load(flags, STOP) !== 0, // the worker failed: its reply says why
    elsewhere: () => Atomics.load(flags, PLACED),
  });
}

/**
 * Run `mine` while the worker runs its job. A failure here stops the worker and waits for its
 * answer before it is thrown: nothing is placed once the apply has failed (its revert follows).
 */
async function alongside(pair: Pair, theirs: Promise<unknown>, mine: () => void): Promise<void> {
  try {
    mine();
  } catch (err) {
    Atomics.store(pair.flags, STOP, 1);
    await theirs.catch(() => {});
    throw err;
  }
}

/**
 * The worker's answer; if it could not run the job (it did not start, or died), the job done on
 * this thread instead. Safe after a partial attempt: making a directory or placing a name that is
 * there already as planned converges, as recovery's re-apply does.
 */
async function orHere<T>(theirs: Promise<T>, here: () => T): Promise<T> {
  try {
    return await theirs;
  } catch (err) {
    if (!(err instanceof WorkerGone)) throw err;
    return here();
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
