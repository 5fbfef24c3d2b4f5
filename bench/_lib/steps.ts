// A transaction's own time, as its `--verbose` lines report it (`pstore: STEP MS ms` on stderr,
// SPEC.md §Dry run and verbose): what a bench judges when the whole process's time is mostly
// Node's start-up and the machine's load, not the work the target is about.

export interface StepTime {
  step: string;
  ms: number;
}

/** Every step line of a --verbose run's stderr, in order. */
export function parseSteps(stderr: string): StepTime[] {
  return [...stderr.matchAll(/^pstore: ([\w:-]+) ([\d.]+) ms$/gm)].map((m) => ({
    step: m[1]!,
    ms: Number(m[2]),
  }));
}

/**
 * The time under the prefix lock: the steps from recover to commit. `lock` is the wait (and the
 * opening), `unlock` the release; apply:* are apply's own parts, which apply's time includes.
 */
export function underLockMs(steps: readonly StepTime[]): number {
  return steps
    .filter((s) => s.step !== 'lock' && s.step !== 'unlock' && !s.step.includes(':'))
    .reduce((sum, s) => sum + s.ms, 0);
}
