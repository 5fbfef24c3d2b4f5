// Assertions on thrown PstoreErrors for tests that call lib/ directly: the class, the stable code
// and the subject, never the message text.

import type { ExecutionContext } from 'ava';
import { PstoreError, type ErrorCode } from '../../lib/core/errors.js';

/** `err` is a PstoreError with this code, naming `subject`. */
export function isRefusal(
  t: ExecutionContext,
  err: unknown,
  code: ErrorCode,
  subject: string,
  what = '',
): void {
  t.true(err instanceof PstoreError, `${what} ${String(err)}`);
  t.is((err as PstoreError).code, code, `${what} ${String(err)}`);
  t.is((err as PstoreError).subject, subject, what);
}

/** `fn` throws a PstoreError with this code naming `subject`. */
export function refuses(
  t: ExecutionContext,
  fn: () => unknown,
  code: ErrorCode,
  subject: string,
): void {
  isRefusal(t, t.throws(fn), code, subject, JSON.stringify(subject));
}

/** The promise rejects with a PstoreError with this code naming `subject`. */
export async function rejects(
  t: ExecutionContext,
  p: Promise<unknown>,
  code: ErrorCode,
  subject: string,
): Promise<void> {
  isRefusal(t, await t.throwsAsync(p), code, subject, JSON.stringify(subject));
}
