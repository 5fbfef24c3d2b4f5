// Named crash points for the crash tests (SPEC.md §Testing hooks), as Nix's _NIX_TEST_GC_SYNC.
// PSTORE_TEST_CRASHPOINT=NAME kills the process with SIGKILL the first time it reaches NAME;
// NAME#N kills it on the N-th time. Unset (always, outside tests), a crash point does nothing.

const spec = process.env.PSTORE_TEST_CRASHPOINT;
const [wanted, nth] = spec ? [spec.split('#')[0], Number(spec.split('#')[1] ?? 1)] : [undefined, 0];
let hits = 0;

export function crashpoint(name: string): void {
  if (wanted === undefined || name !== wanted) return;
  hits++;
  if (hits >= nth) process.kill(process.pid, 'SIGKILL');
}
