// An error crossing from a worker thread (an ingest's, lib/ingest/dir-worker.ts; a placing one's,
// lib/txn/place-worker.ts) to the main thread. A structured clone keeps an Error's message and
// stack but not its own properties (`code`, `subject`, an errno error's `errno`, `syscall`,
// `path`), so the worker sends them as plain data and the main thread rebuilds the same error it
// would have thrown itself: a PstoreError with its code, or a system error the library's boundary
// maps as usual (api/boundary.ts).

import { PstoreError, isPstoreError, type ErrorCode } from './errors.js';

/** What crosses the thread boundary: plain data only. */
export interface SentError {
  message: string;
  name: string;
  stack: string | undefined;
  /** a PstoreError's parts */
  pstore?: { code: string; subject?: string; hint?: string; data?: unknown };
  /** a system error's parts (and any other string or number own property) */
  props?: Record<string, string | number>;
}

export function sendError(err: unknown): SentError {
  if (!(err instanceof Error)) return { message: String(err), name: 'Error', stack: undefined };
  const sent: SentError = { message: err.message, name: err.name, stack: err.stack };
  if (isPstoreError(err)) {
    sent.pstore = {
      code: err.code,
      ...(err.subject === undefined ? {} : { subject: err.subject }),
      ...(err.hint === undefined ? {} : { hint: err.hint }),
      ...(err.data === undefined ? {} : { data: err.data }),
    };
    return sent;
  }
  const props: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(err))
    if (typeof v === 'string' || typeof v === 'number') props[k] = v;
  sent.props = props;
  return sent;
}

export function reviveError(sent: SentError): Error {
  let err: Error;
  if (sent.pstore) {
    const { code, subject, hint, data } = sent.pstore;
    err = new PstoreError(code as ErrorCode, sent.message, {
      ...(subject === undefined ? {} : { subject }),
      ...(hint === undefined ? {} : { hint }),
      ...(data === undefined ? {} : { data: data as never }),
    });
  } else {
    err = Object.assign(new Error(sent.message), sent.props);
    err.name = sent.name;
  }
  if (sent.stack !== undefined) err.stack = sent.stack;
  return err;
}
