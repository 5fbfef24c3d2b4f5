// Transaction steps as progress events (`--verbose`): each step is reported when it ends, with the
// milliseconds since the previous one, so a listener sees where a transaction spends its time.

import { nowMs } from '../core/clock.js';
import type { ProgressListener, TxnStep } from '../core/types.js';

/** One step's time, as a holder sends a served waiter its transaction's steps (group.ts). */
export interface StepTime {
  step: TxnStep;
  ms: number;
}

/** A function that reports `step` as done, timed from the previous call (or from creation). */
export function stepClock(listener: ProgressListener | undefined): (step: TxnStep) => void {
  if (!listener) return () => {};
  let last = nowMs();
  return (step) => {
    const now = nowMs();
    listener({ phase: step, unit: 'steps', done: 1, ms: Math.round((now - last) * 10) / 10 });
    last = now;
  };
}

/** The steps a clock reports, collected: what a holder answers a served waiter with. */
export function stepRecorder(): { clock: (step: TxnStep) => void; steps: StepTime[] } {
  const steps: StepTime[] = [];
  const clock = stepClock((e) => {
    if (e.ms !== undefined) steps.push({ step: e.phase as TxnStep, ms: e.ms });
  });
  return { clock, steps };
}

/**
 * A served waiter's steps (`--verbose`): its wait (`lock`: until its request ran) and the steps the
 * holder timed for it, so a per-transaction report reads the same whoever ran it.
 */
export function replaySteps(
  listener: ProgressListener | undefined,
  waitedMs: number,
  steps: readonly StepTime[],
): void {
  if (!listener) return;
  const ran = steps.reduce((sum, s) => sum + s.ms, 0);
  const emit = (phase: TxnStep, ms: number) =>
    listener({ phase, unit: 'steps', done: 1, ms: Math.round(ms * 10) / 10 });
  emit('lock', Math.max(0, waitedMs - ran));
  for (const s of steps) emit(s.step, s.ms);
}
