// Whether a piece of work gets a second thread (SPEC.md §Ingest *Threads*, §Plan *Two threads*):
// a worker's start-up is paid on its own core, so it is worth it only with two cores and enough
// work. A setting of `1` or `2` (an environment variable) forces one or two, for A/B measurements
// and tests.

import os from 'node:os';

/**
 * Run from TypeScript source (tsx, while working on pstore): Node 20 starts a worker's module
 * before tsx's loader hooks apply to it, so a `.ts` worker cannot load; one thread does all.
 */
const FROM_SOURCE = import.meta.url.endsWith('.ts');

/** How many threads do `count` units of work, worth two from `min` on. */
export function threadCount(count: number, min: number, setting: string | undefined): 1 | 2 {
  if (setting === '1' || count === 0 || FROM_SOURCE) return 1;
  if (setting === '2') return 2;
  return os.availableParallelism() >= 2 && count >= min ? 2 : 1;
}
