// Group serving (SPEC.md §Group commit). A writer that finds the prefix locked sends its request
// (the operations, the options that matter) to the lock holder over the lock's own socket
// (fs/lock.ts) instead of waiting to run its own transaction; the holder, after its own commit and
// still holding the locks, runs each request it took as a transaction of its own and sends back
// the result or error. The waiter prints that as if it had run it: it never opens LevelDB nor
// reads a manifest. Anything else (no answer, a holder that declines or dies) and the waiter takes
// the lock and runs its own transaction, as without grouping; activating what is active is a no-op.
//
// Trust: the lock's socket name is reachable by any local user, so a request carries a token the
// waiter proved it may write the prefix's state with: an empty file <state>/.pstore-tmp-group-TOKEN
// it made (swept with the other state temps by the next writer if the waiter dies).

import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import * as v from 'valibot';
import { ERROR_MEANINGS, PstoreError, isPstoreError, type ErrorCode } from '../core/errors.js';
import { TEMP_PREFIX } from '../core/names.js';
import { crashpoint } from '../core/crashpoint.js';
import { LockAnswered, type HeldLock, type LockRequest } from '../fs/lock.js';
import type { PrefixPaths } from '../prefix/layout.js';
import type { Op } from './ops.js';
import type { TxnKind } from './journal.js';
import type { TxnOptions, TxnResult } from './txn-types.js';
import { stepRecorder, type StepTime } from './steps.js';

const RequestSchema = v.object({
  v: v.literal(1),
  token: v.pipe(v.string(), v.regex(/^[0-9a-f]{32}$/)),
  store: v.string(),
  kind: v.picklist(['activate', 'deactivate']),
  ops: v.array(
    v.union([
      v.object({ kind: v.literal('activate'), ref: v.string() }),
      v.object({ kind: v.literal('deactivate'), name: v.string() }),
    ]),
  ),
  link: v.optional(v.picklist(['auto', 'hardlink', 'reflink', 'copy'])),
  verify: v.optional(v.boolean()),
  layout: v.optional(v.picklist(['inplace', 'generations'])),
  command: v.optional(v.string()),
});

/** What a waiting writer asks the holder to run for it. */
export type GroupRequest = v.InferOutput<typeof RequestSchema>;

type Answer = { result: TxnResult; steps?: StepTime[] } | { error: Record<string, unknown> };

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
  if (opts.overwrite?.length || opts.signal || opts.waitMs <= 0) return undefined;
  let tokenFile: string | undefined;
  const drop = async () => {
    if (tokenFile) await fsp.rm(tokenFile, { force: true }).catch(() => {});
    tokenFile = undefined;
  };
  return {
    async request(file) {
      await drop();
      const token = randomBytes(16).toString('hex');
      const made = path.join(path.dirname(file), tokenName(token));
      // No token, no request: the waiter just waits (a full disk, no write access).
      if (
        !(await fsp.writeFile(made, '', { flag: 'wx' }).then(
          () => true,
          () => false,
        ))
      )
        return undefined;
      tokenFile = made;
      const req: GroupRequest = {
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
      return JSON.stringify(req);
    },
    outcome: answerOf,
    done: drop,
  };
}

const tokenName = (token: string) => `${TEMP_PREFIX}tmp-group-${token}`;

function answerOf(err: unknown): Served {
  if (!(err instanceof LockAnswered)) throw err;
  const answer = JSON.parse(err.answer) as Answer;
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

/**
 * The holder's side, after its own commit and under the same locks: take the requests waiters
 * sent, run each (`serve`, one transaction each, in the order taken), answer each; again until
 * none is left. Never throws: a request that cannot be served is declined (its waiter runs it).
 */
export async function serveWaiters(
  lock: HeldLock,
  p: PrefixPaths,
  storeRoot: string,
  serve: (req: GroupRequest, step: (step: StepTime['step']) => void) => Promise<TxnResult>,
): Promise<void> {
  for (let taken = lock.takeRequests(); taken.length; taken = lock.takeRequests()) {
    crashpoint('group:after-take');
    for (const r of taken) await serveOne(r, p, storeRoot, serve);
  }
}

async function serveOne(
  r: LockRequest,
  p: PrefixPaths,
  storeRoot: string,
  serve: (req: GroupRequest, step: (step: StepTime['step']) => void) => Promise<TxnResult>,
): Promise<void> {
  const req = await acceptable(r.line, p, storeRoot);
  if (!req) return r.decline();
  let answer: Answer;
  const timed = stepRecorder();
  try {
    answer = { result: await serve(req, timed.clock), steps: timed.steps };
  } catch (err) {
    // A bug is not sent: the waiter runs its own transaction and meets it itself.
    if (!isPstoreError(err)) return r.decline();
    answer = { error: err.toJSON() };
  }
  r.answer(JSON.stringify(answer));
}

/** The request, if it is well formed, proven (its token file) and for this prefix and store. */
async function acceptable(
  line: string,
  p: PrefixPaths,
  storeRoot: string,
): Promise<GroupRequest | undefined> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  const got = v.safeParse(RequestSchema, parsed);
  if (!got.success) return undefined;
  const req = got.output;
  // Another layout or store is refused by the waiter's own run, with its own error.
  if (req.layout !== undefined && req.layout !== p.layout) return undefined;
  const st = await fsp.lstat(path.join(p.meta, tokenName(req.token))).catch(() => undefined);
  if (!st?.isFile()) return undefined;
  const real = (d: string) => fsp.realpath(d).catch(() => path.resolve(d));
  return (await real(req.store)) === (await real(storeRoot)) ? req : undefined;
}

/** The options a served request runs with: its own link, verify and command line. */
export function requestOptions(req: GroupRequest): TxnOptions {
  return {
    ...(req.link ? { link: req.link } : {}),
    ...(req.verify ? { verify: true } : {}),
    ...(req.command === undefined ? {} : { command: req.command }),
  };
}
