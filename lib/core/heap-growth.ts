// V8's heap growth, limited for a process that does bulk work (the CLI, cli/run-cli.ts), and the
// worker threads pstore starts: each with a small young generation, and under that limit
// (SPEC.md §Start-up cost, *Memory*; §Ingest *Threads*).
//
// The limit is a V8 flag, one for the whole process. Changing any V8 flag changes V8's flag hash,
// and a thread that compiles Node's built-in modules under a hash other than the one Node's
// embedded code cache was made with compiles them from source: a worker thread started after the
// flag was set took ~65 ms to come up instead of ~30 (its built-ins ~45 ms of CPU instead of ~10).
// So while a worker boots the flag is back at V8's default, and it is set again once the worker
// runs its own code ('online'), or ends.

import { Worker } from 'node:worker_threads';

const LIMITED = '--heap-growing-percent=30';
const V8_DEFAULT = '--heap-growing-percent=0';

/** V8's setFlagsFromString, once the limit was asked for (loaded then: most runs never need it). */
let setFlags: ((flags: string) => void) | undefined;
/** Workers between their start and 'online'. */
let booting = 0;

/**
 * Grow V8's heap by 30% of what is live, not by V8's default factor: a command over 100k files makes
 * far more garbage (a stream, a stat, a hash per file) than it keeps, and V8's default lets old space
 * grow to several times the live size before it compacts, which set the peak RSS (issue 9). Call it
 * once the modules the work needs are loaded: each Node built-in compiled after it is compiled from
 * source (set at start, it cost `status` and `activate` ~7% of their instructions). `builtins`
 * names those the work loads later (`node:child_process`, ...): they are loaded first.
 */
export async function limitHeapGrowth(builtins: readonly string[] = []): Promise<void> {
  loadBuiltins(builtins);
  limitHeapGrowthWith((await import('node:v8')).setFlagsFromString);
}

/**
 * Node's built-in modules that the command will load, loaded now: after the flag each compiles from
 * source, 2-4× slower (child_process ~7 ms instead of ~1.5, node:cluster, which a listening socket
 * loads, ~6 instead of ~2). `node:fs/promises` serves every store command.
 */
function loadBuiltins(builtins: readonly string[]): void {
  for (const name of ['node:fs/promises', ...builtins]) process.getBuiltinModule(name);
}

/** limitHeapGrowth with the function that sets V8 flags given (a test records the calls). */
export function limitHeapGrowthWith(set: (flags: string) => void): void {
  setFlags = set;
  if (booting === 0) set(LIMITED);
}

/**
 * A worker thread's young generation, MiB. pstore's workers keep little (their share of a list, one
 * read buffer) but make garbage per file: V8's default young generation per isolate (up to 3 × 16
 * MiB semi-spaces) would add tens of MiB to the peak of a 100k-file add or activation for nothing.
 */
const WORKER_YOUNG_MIB = 8;

/**
 * Start the worker thread of module `url` (its output not piped, a small young generation), with
 * V8's default flags until it is online or gone.
 */
export function startWorker(url: URL): Worker {
  const set = setFlags;
  const make = () =>
    new Worker(url, {
      stdout: false,
      stderr: false,
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_MIB },
    });
  if (!set) return make();
  if (booting++ === 0) set(V8_DEFAULT);
  let up = false;
  const online = () => {
    if (up) return;
    up = true;
    if (--booting === 0) set(LIMITED);
  };
  try {
    const worker = make();
    worker.once('online', online).once('error', online).once('exit', online);
    return worker;
  } catch (err) {
    online();
    throw err;
  }
}
