// Cancellation: long operations take an AbortSignal and stop at their next safe point with
// EPSTORE_ABORTED. What a safe point means is each operation's own rule (a transaction reverts
// like a failed one; an add leaves only unreferenced objects, which gc removes).

import { PstoreError } from './errors.js';
import type { ProgressListener } from './types.js';

/** What was stopped: `what` for the message, `subject` the path or ref it worked on. */
export interface Stoppable {
  what: string;
  subject: string;
}

/** Throw EPSTORE_ABORTED (the signal's reason as the cause) if `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, op: Stoppable): void {
  if (signal?.aborted !== true) return;
  throw new PstoreError('EPSTORE_ABORTED', `${op.what} was aborted`, {
    subject: op.subject,
    cause: signal.reason,
  });
}

/**
 * A progress listener that is also a safe point: each event first checks `signal`. Operations
 * report progress from inside their loops, so this stops them between two steps.
 */
export function abortingListener(
  signal: AbortSignal | undefined,
  op: Stoppable,
  listener: ProgressListener | undefined,
): ProgressListener | undefined {
  if (signal === undefined) return listener;
  return (event) => {
    throwIfAborted(signal, op);
    listener?.(event);
  };
}
