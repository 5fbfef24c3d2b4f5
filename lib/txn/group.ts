// Group serving, the holder's side (SPEC.md §Group commit; the waiter's side is group-ask.ts). A
// writer that finds the prefix locked sends its request (the operations, the options that matter)
// to the lock holder over the lock's own socket (fs/lock.ts) instead of waiting to run its own
// transaction; the holder, after its own commit and still holding the locks, runs the requests it
// took as one transaction where they commute (group-merge.ts), else one at a time, and sends back
// each one's own result or error. The waiter prints that as if it had run it: it never opens
// LevelDB nor reads a manifest. Anything else (no answer, a holder that declines or dies) and the waiter takes
// the lock and runs its own transaction, as without grouping; activating what is active is a no-op.
//
// Trust: the lock's socket name is reachable by any local user, so a request carries a token the
// waiter proved it may write the prefix's state with: an empty file <state>/.pstore-tmp-group-TOKEN
// it made (swept with the other state temps by the next writer if the waiter dies).

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import * as v from 'valibot';
import { isPstoreError } from '../core/errors.js';
import { crashpoint } from '../core/crashpoint.js';
import type { HeldLock, LockRequest } from '../fs/lock.js';
import type { PrefixPaths } from '../prefix/layout.js';
import type { TxnOptions, TxnResult } from './txn-types.js';
import { stepRecorder, type StepTime } from './steps.js';
import { tokenName } from '../prefix/group-token.js';
import type { GroupAnswer, GroupRequest } from './group-ask.js';
import { MergedRequests } from './group-merge.js';

/** A request as group-ask.ts makes it; anything else is declined. */
const RequestSchema: v.GenericSchema<unknown, GroupRequest> = v.object({
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

/** How a holder runs what it serves (run.ts): one request alone, or several as one transaction. */
export interface GroupServe {
  /** a request as a transaction of its own */
  alone(req: GroupRequest, step: Step): Promise<TxnResult>;
  /** the merged transaction of `group` (its target sorts members from deferred requests) */
  together(group: MergedRequests, step: Step): Promise<TxnResult>;
  /** the committed generation, after recovering any journal a failure left */
  committedGeneration(): Promise<number>;
}

type Step = (step: StepTime['step']) => void;

/**
 * The holder's side, after its own commit and under the same locks: take the requests waiters
 * sent and serve them, the compatible ones as one transaction (serveGroup); again until none is
 * left. Never throws: a request that cannot be served is declined (its waiter runs it).
 */
export async function serveWaiters(
  lock: HeldLock,
  p: PrefixPaths,
  storeRoot: string,
  serve: GroupServe,
): Promise<void> {
  for (;;) {
    let taken = lock.takeRequests();
    // Writers woken by our arrival ask right after we took the lock: wait for the late ones.
    if (!taken.length && (await lock.requestsDue())) taken = lock.takeRequests();
    if (!taken.length) return;
    crashpoint('group:after-take');
    let pending: Taken[] = [];
    for (const r of taken) {
      const req = await acceptable(r.line, p, storeRoot);
      if (req) pending.push({ r, req });
      else r.decline();
    }
    // One group per set of options (link, verify), in the order of each set's first request.
    while (pending.length) {
      const key = optionsKey(pending[0]!.req);
      const group = pending.filter((t) => optionsKey(t.req) === key);
      pending = pending.filter((t) => optionsKey(t.req) !== key);
      await serveGroup(group, p, serve);
    }
  }
}

/** A request taken and accepted. */
interface Taken {
  r: LockRequest;
  req: GroupRequest;
}

const optionsKey = (req: GroupRequest) => `${req.link ?? 'auto'} ${req.verify === true}`;

/**
 * Requests with the same options: one alone as before; several as one transaction, then the
 * deferred ones alone, in order. A merged transaction that fails before its commit committed
 * nothing: every request of the group then runs alone, in order, to its own result or error.
 */
async function serveGroup(group: Taken[], p: PrefixPaths, serve: GroupServe): Promise<void> {
  const alone = (t: Taken) => answer(t.r, (step) => serve.alone(t.req, step));
  if (group.length === 1) return alone(group[0]!);
  const merged = new MergedRequests(group.map((t) => t.req));
  const timed = stepRecorder();
  let results: Array<[GroupRequest, TxnResult]> | undefined;
  try {
    results = merged.answers(await serve.together(merged, timed.clock));
  } catch {
    results = await committedAnyway(merged, p, serve);
  }
  if (!results) {
    for (const t of group) await alone(t);
    return;
  }
  const taken = new Map(group.map((t) => [t.req, t]));
  for (const [req, result] of results)
    taken.get(req)!.r.answer(JSON.stringify({ result, steps: timed.steps } satisfies GroupAnswer));
  for (const req of merged.deferred) await alone(taken.get(req)!);
}

/**
 * After a merged transaction threw: its members' answers if it committed all the same (a failure
 * after `current.json`, or a journal the recovery rolled forward), else undefined (run them alone).
 */
async function committedAnyway(
  merged: MergedRequests,
  p: PrefixPaths,
  serve: GroupServe,
): Promise<Array<[GroupRequest, TxnResult]> | undefined> {
  if (merged.from === undefined) return undefined;
  const now = await serve.committedGeneration().catch(() => merged.from);
  if (now === merged.from) return undefined;
  return merged.answers({
    prefix: p.dir,
    layout: p.layout,
    generation: now!,
    previousGeneration: merged.from,
    activated: [],
    deactivated: [],
    noop: false,
    link: merged.options().link ?? 'auto',
  });
}

/** Run one request and answer it; a failure that is not a PstoreError (a bug) is declined. */
async function answer(r: LockRequest, run: (step: Step) => Promise<TxnResult>): Promise<void> {
  let reply: GroupAnswer;
  const timed = stepRecorder();
  try {
    reply = { result: await run(timed.clock), steps: timed.steps };
  } catch (err) {
    // A bug is not sent: the waiter runs its own transaction and meets it itself.
    if (!isPstoreError(err)) return r.decline();
    reply = { error: err.toJSON() };
  }
  r.answer(JSON.stringify(reply));
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
