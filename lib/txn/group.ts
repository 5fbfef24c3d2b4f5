// Group serving, the holder's side (SPEC.md §Group commit; the waiter's side is group-ask.ts). A
// writer that finds the prefix locked sends its request (the operations, the options that matter)
// to the lock holder over the lock's own socket (fs/lock.ts) instead of waiting to run its own
// transaction; the holder, after its own commit and
// still holding the locks, runs each request it took as a transaction of its own and sends back
// the result or error. The waiter prints that as if it had run it: it never opens LevelDB nor
// reads a manifest. Anything else (no answer, a holder that declines or dies) and the waiter takes
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
import { tokenName, type GroupAnswer, type GroupRequest } from './group-ask.js';

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
  for (;;) {
    let taken = lock.takeRequests();
    // Writers woken by our arrival ask right after we took the lock: wait for the late ones.
    if (!taken.length && (await lock.requestsDue())) taken = lock.takeRequests();
    if (!taken.length) return;
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
  let answer: GroupAnswer;
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
