// Test hooks compiled into the product (SPEC.md §Testing hooks), as Nix's _NIX_TEST_GC_SYNC.
// Outside tests none of these variables is set and every hook does nothing.
//   PSTORE_TEST_CRASHPOINT=NAME[#N]   SIGKILL this process the N-th time (default 1st) it reaches NAME
//   PSTORE_TEST_PAUSEPOINT=NAME:MS    sleep MS milliseconds the first time it reaches NAME (hold locks)
//   PSTORE_TEST_UNSAFE_ORDER=markers-first   place markers before files: the bug the reader test catches

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

export async function pausepoint(name: string): Promise<void> {
  if (pauseName !== name || paused) return;
  paused = true;
  await new Promise((r) => setTimeout(r, pauseMs));
}

export const unsafeMarkersFirst = process.env.PSTORE_TEST_UNSAFE_ORDER === 'markers-first';
