// Requests over the lock's socket (lib/fs/lock.ts, LockOptions.request): a waiting process sends
// one line to the exclusive holder (this test process); the holder takes it and answers (the
// waiter's acquireLock ends with LockAnswered), declines it, or never takes it (dropped when the
// holder releases): in both last cases the waiter then holds the lock, as without a request.

import { spawn } from 'node:child_process';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { REPO } from '../_helpers/cli.js';
import { tempDir } from '../_helpers/tmp.js';
import { until } from '../_helpers/txn-trees.js';

const LOCK_MODULE = path.join(REPO, 'dist', 'lib', 'fs', 'lock.js');
type LockModule = typeof import('../../lib/fs/lock.js');
const lockModule = (): Promise<LockModule> => import(LOCK_MODULE) as Promise<LockModule>;

/** A child waiting for the exclusive lock with request `line`; prints `answered X` or `held`. */
function waiter(file: string, line: string): Promise<string> {
  const script = `
    const { acquireLock, LockAnswered } = await import(${JSON.stringify(LOCK_MODULE)});
    try {
      const lock = await acquireLock(${JSON.stringify(file)}, { mode: 'exclusive', waitMs: 60000, what: 'test', request: async () => ${JSON.stringify(line)} });
      console.log('held');
      await lock.release();
    } catch (err) {
      console.log(err instanceof LockAnswered ? 'answered ' + err.answer : 'error ' + err.message);
    }`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve) => child.on('close', () => resolve(out.trim())));
}

/** Hold the lock until a request arrives; hand the taken requests to `act`, then release. */
async function holdUntilAsked(
  t: ExecutionContext,
  act: (taken: ReturnType<Awaited<ReturnType<LockModule['acquireLock']>>['takeRequests']>) => void,
): Promise<string> {
  const { acquireLock } = await lockModule();
  const file = path.join(await tempDir(t, 'lockreq'), 'lock');
  const lock = await acquireLock(file, { mode: 'exclusive', waitMs: 0, what: 'test' });
  const result = waiter(file, 'please');
  for (let taken = lock.takeRequests(); ; taken = lock.takeRequests()) {
    if (taken.length) {
      t.deepEqual(
        taken.map((r) => r.line),
        ['please'],
      );
      act(taken);
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  await lock.release();
  return result;
}

test('an answered request ends the wait with the answer', async (t) => {
  t.is(await holdUntilAsked(t, ([r]) => r!.answer('{"done":true}')), 'answered {"done":true}');
});

test('a declined request: the waiter then holds the lock', async (t) => {
  t.is(await holdUntilAsked(t, ([r]) => r!.decline()), 'held');
});

test('a request never taken is dropped at release: the waiter then holds the lock', async (t) => {
  const { acquireLock } = await lockModule();
  const file = path.join(await tempDir(t, 'lockreq'), 'lock');
  const lock = await acquireLock(file, { mode: 'exclusive', waitMs: 0, what: 'test' });
  const result = waiter(file, 'please');
  // the request has arrived (requestsDue does not take it): the release must drop it
  await until('the request', () => lock.requestsDue(), 60_000);
  await lock.release();
  t.is(await result, 'held');
  t.deepEqual(lock.takeRequests(), [], 'nothing is left to take once released');
});
