// Group serving, the waiting writer's side (SPEC.md §Group commit): the request it sends the
// prefix's writer of the moment, proven by a token file, and what the answer means. Kept apart
// from the holder's side (group.ts: the request's schema, serving) so that a waiter loads no
// schema library, no store and no transaction code: `askPrefixWriter` (api/ask-writer.ts) runs
// this alone before anything else is loaded, and runTransaction uses it while it waits.

import { closeSync, openSync, readSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { ERROR_MEANINGS, PstoreError, type ErrorCode } from '../core/errors.js';
import type { LayoutKind } from '../core/names.js';
import { LockAnswered } from '../fs/lock.js';
import { makeToken, tokenName } from '../prefix/group-token.js';
import type { Op } from './ops.js';
import type { TxnKind } from './journal.js';
import type { TxnOptions, TxnResult } from './txn-types.js';
import type { StepTime } from './steps.js';

/** What a waiting writer asks the holder to run for it (checked by group.ts's schema). */
export interface GroupRequest {
  v: 1;
  token: string;
  store: string;
  kind: 'activate' | 'deactivate';
  ops: Op[];
  link?: 'auto' | 'hardlink' | 'reflink' | 'copy';
  verify?: boolean;
  layout?: LayoutKind;
  command?: string;
}

/** What a served waiter gets: its result, and the steps the holder timed running it. */
export interface Served {
  result: TxnResult;
  steps: StepTime[];
}

/** Whether grouping is on: unless TxnOptions.group is false or PSTORE_NO_GROUP=1. */
export function groupingOn(opts: TxnOptions): boolean {
  return opts.group !== false && process.env.PSTORE_NO_GROUP !== '1';
}

/** A waiting writer's side: the request to send while it waits, and what an answer means. */
export interface GroupAsk {
  /** the request line for a wait on the lock file `file` (a fresh token each time) */
  request(file: string): Promise<string | undefined>;
  /** the result an answer carries (its error thrown); any other error rethrown */
  outcome(err: unknown): Served;
  /** remove the last token file */
  done(): Promise<void>;
}

/**
 * The request a writer may send, or undefined when it may not be served by another process: a
 * closure target (no ops), --overwrite (saves files as this user), a signal, --wait 0.
 */
export function groupAsk(
  store: string,
  kind: TxnKind,
  ops: readonly Op[] | undefined,
  opts: TxnOptions & { waitMs: number },
): GroupAsk | undefined {
  if (!ops || (kind !== 'activate' && kind !== 'deactivate') || !groupingOn(opts)) return undefined;
  if (opts.overwrite?.length || opts.signal || opts.dryRun || opts.waitMs <= 0) return undefined;
  let tokenFile: string | undefined;
  // Synchronous, as is making the token: an empty file, and no fs/promises for the waiter to load.
  const drop = async () => {
    if (tokenFile) tryTo(() => unlinkSync(tokenFile!)); // not rmSync: it loads rimraf
    tokenFile = undefined;
  };
  return {
    async request(file) {
      await drop();
      const token = newToken();
      const made = path.join(path.dirname(file), tokenName(token));
      // No token, no request: the waiter just waits (a full disk, no write access).
      if (!tryTo(() => makeToken(made))) return undefined;
      tokenFile = made;
      return JSON.stringify(requestOf(token, store, kind, ops, opts));
    },
    outcome: answerOf,
    done: drop,
  };
}

function requestOf(
  token: string,
  store: string,
  kind: 'activate' | 'deactivate',
  ops: readonly Op[],
  opts: TxnOptions,
): GroupRequest {
  return {
    v: 1,
    token,
    store,
    kind,
    ops: [...ops],
    ...(opts.link ? { link: opts.link } : {}),
    ...(opts.verify ? { verify: true } : {}),
    ...(opts.layout ? { layout: opts.layout } : {}),
    ...(opts.command === undefined ? {} : { command: opts.command }),
  };
}

function tryTo(fn: () => void): boolean {
  try {
    fn();
    return true;
  } catch {
    return false;
  }
}

/** 32 hex digits from the kernel's random source (node:crypto would cost a waiter its load). */
function newToken(): string {
  const fd = openSync('/dev/urandom', 'r');
  try {
    const bytes = Buffer.alloc(16);
    readSync(fd, bytes);
    return bytes.toString('hex');
  } finally {
    closeSync(fd);
  }
}

/** The holder's answer line: a result and its steps, or a PstoreError's JSON. */
export type GroupAnswer =
  { result: TxnResult; steps?: StepTime[] } | { error: Record<string, unknown> };

function answerOf(err: unknown): Served {
  if (!(err instanceof LockAnswered)) throw err;
  const answer = JSON.parse(err.answer) as GroupAnswer;
  if ('result' in answer)
    return { result: { ...answer.result, grouped: true }, steps: answer.steps ?? [] };
  const e = answer.error as { code: string; message: string; subject?: string; hint?: string };
  const code = (e.code in ERROR_MEANINGS ? e.code : 'EPSTORE_INTERNAL') as ErrorCode;
  throw new PstoreError(code, e.message, {
    ...(e.subject === undefined ? {} : { subject: e.subject }),
    ...(e.hint === undefined ? {} : { hint: e.hint }),
    ...('data' in answer.error ? { data: answer.error.data as never } : {}),
  });
}
