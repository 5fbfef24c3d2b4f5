// Transaction steps as progress events (`--verbose`): each step is reported when it ends, with the
// milliseconds since the previous one, so a listener sees where a transaction spends its time.

import type { ProgressListener, TxnStep } from '../core/types.js';

/** A function that reports `step` as done, timed from the previous call (or from creation). */
export function stepClock(listener: ProgressListener | undefined): (step: TxnStep) => void {
  if (!listener) return () => {};
  let last = performance.now();
  return (step) => {
    const now = performance.now();
    listener({ phase: step, unit: 'steps', done: 1, ms: Math.round((now - last) * 10) / 10 });
    last = now;
  };
}
