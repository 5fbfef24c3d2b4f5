// Test hooks compiled into the product (SPEC.md §Testing hooks), as Nix's _NIX_TEST_GC_SYNC.
// Outside tests none of these variables is set and every hook does nothing.
//   PSTORE_TEST_CRASHPOINT=NAME[#N]   SIGKILL this process the N-th time (default 1st) it reaches NAME
//   PSTORE_TEST_PAUSEPOINT=NAME:MS    sleep MS milliseconds the first time it reaches NAME (hold locks)
//   PSTORE_TEST_PAUSE_RELEASE=FILE    end that pause early once FILE exists (a test's "go on")
//   PSTORE_TEST_UNSAFE_ORDER=markers-first   place markers before files: the bug the reader test catches

import { existsSync } from 'node:fs';

const crashSpec = process.env.PSTORE_TEST_CRASHPOINT;
const [crashName, crashNth] = crashSpec
  ? [crashSpec.split('#')[0], Number(crashSpec.split('#')[1] ?? 1)]
  : [undefined, 0];
let crashHits = 0;

const pauseSpec = process.env.PSTORE_TEST_PAUSEPOINT;
const pauseName = pauseSpec?.slice(0, pauseSpec.lastIndexOf(':'));
const pauseMs = pauseSpec ? Number(pauseSpec.slice(pauseSpec.lastIndexOf(':') + 1)) : 0;
let paused = false;

export function crashpoint(name: string): void {
  if (crashName === undefined || name !== crashName) return;
  crashHits++;
  if (crashHits >= crashNth) process.kill(process.pid, 'SIGKILL');
}

const releaseFile = process.env.PSTORE_TEST_PAUSE_RELEASE;

export async function pausepoint(name: string): Promise<void> {
  if (pauseName !== name || paused) return;
  paused = true;
  const until = Date.now() + pauseMs;
  // Polled, not watched: a test hook needs no more than a 20 ms step, and no watcher to close.
  while (Date.now() < until && !(releaseFile && existsSync(releaseFile)))
    await new Promise((r) => setTimeout(r, Math.min(20, until - Date.now())));
}

export const unsafeMarkersFirst = process.env.PSTORE_TEST_UNSAFE_ORDER === 'markers-first';
