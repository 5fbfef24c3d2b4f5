// Arrivals (lib/fs/lock.ts arriveAt, SPEC.md §Group commit): writers started together on a prefix
// nobody holds yet agree on one of them, the first to bind the arrival name of the lock file's
// path; the others wait for it instead of loading the library. The name is only a hint: it never
// keeps anyone from the lock itself, it is let go once its holder holds an exclusive lock, and
// the kernel frees it when its holder dies. Each side is a real process.

import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { REPO } from '../_helpers/cli.js';
import { tempDir } from '../_helpers/tmp.js';
import { until } from '../_helpers/txn-trees.js';

const LOCK_MODULE = path.join(REPO, 'dist', 'lib', 'fs', 'lock.js');
type LockModule = typeof import('../../lib/fs/lock.js');

interface Child {
  /** what it printed so far */
  printed(): string;
  /** what it printed in all, once it has exited */
  done: Promise<string>;
  kill(): void;
}

/**
 * A child process running `body` with `arriveAt`, `acquireLock`, `file` and `hold()` (stay alive,
 * holding what it bound, until killed) in scope.
 */
function child(file: string, body: string): Child {
  const script = `
    const { arriveAt, acquireLock } = await import(${JSON.stringify(LOCK_MODULE)});
    const file = ${JSON.stringify(file)};
    const hold = () => new Promise(() => setInterval(() => {}, 1000));
    ${body}`;
  const c = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  c.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return {
    printed: () => out,
    done: new Promise((resolve) => c.on('close', () => resolve(out.trim()))),
    kill: () => c.kill('SIGKILL'),
  };
}

/** Arrive, waiting on another's arrival for at most 1.5 s. */
const ARRIVE = `await arriveAt(file, Date.now() + 1500)`;
/** Arrive up to three times; print the first outcome that is not 'woken'. */
const ARRIVE_3 = `
  let got = 'woken';
  for (let i = 0; i < 3 && got === 'woken'; i++) got = ${ARRIVE};
  console.log(got);`;

/** A child that arrives, prints the outcome, then runs `then` and holds until killed. */
async function arrived(file: string, then = ''): Promise<Child> {
  const c = child(file, `console.log(${ARRIVE}); ${then}; console.log('ready'); await hold();`);
  await until('the child to arrive', () => c.printed().includes('ready'));
  return c;
}

test('while one process holds the arrival nobody else is first, and the lock stays free', async (t) => {
  const file = path.join(await tempDir(t, 'arrive'), 'state', 'lock');
  const first = await arrived(file);
  const second = child(
    file,
    `${ARRIVE_3}
     const lock = await acquireLock(file, { mode: 'exclusive', waitMs: 0, what: 'test' });
     console.log('locked'); await lock.release();`,
  );
  t.deepEqual(
    (await second.done).split('\n'),
    ['woken', 'locked'],
    'the second waits on the arrival, which keeps nobody from the lock itself',
  );
  first.kill();
  t.is((await first.done).split('\n')[0], 'first');
});

test('the arrival is let go once its holder holds an exclusive lock: the next one is first', async (t) => {
  const file = path.join(await tempDir(t, 'arrive'), 'state', 'lock');
  const first = await arrived(
    file,
    `await acquireLock(file, { mode: 'exclusive', waitMs: 0, what: 'test' })`,
  );
  const next = child(file, ARRIVE_3);
  t.is(await next.done, 'first');
  first.kill();
  t.is((await first.done).split('\n')[0], 'first');
});

test('an arrival whose holder is killed (SIGKILL) is free at once', async (t) => {
  const file = path.join(await tempDir(t, 'arrive'), 'state', 'lock');
  const first = await arrived(file);
  const before = child(file, `console.log(${ARRIVE})`);
  t.is(await before.done, 'woken', 'held: the other one waits');
  first.kill();
  await first.done;
  t.is(await child(file, `console.log(${ARRIVE})`).done, 'first');
});

test('a holder that arrived first waits for the request of a writer that waited on its arrival', async (t) => {
  const { arriveAt, arrivalName, acquireLock } = (await import(LOCK_MODULE)) as LockModule;
  const file = path.join(await tempDir(t, 'arrive'), 'state', 'lock');
  t.is(await arriveAt(file, Date.now() + 60_000), 'first');
  // The writer waits on our arrival, then (woken when we take the lock) asks us.
  const late = child(
    file,
    `console.log(await arriveAt(file, Date.now() + 60000));
     try {
       await acquireLock(file, { mode: 'exclusive', waitMs: 60000, what: 'test', request: async () => 'late' });
       console.log('held');
     } catch (err) { console.log(err.answer ?? err.message); }`,
  );
  const name = arrivalName(file).slice(1);
  await until('the writer to wait on the arrival', async () => {
    const unix = await fsp.readFile('/proc/net/unix', 'utf8');
    return unix.split('\n').filter((l) => l.includes(`@${name}@`)).length >= 2;
  });
  const lock = await acquireLock(file, { mode: 'exclusive', waitMs: 0, what: 'test' });
  t.true(await lock.requestsDue(), 'the request of the writer that waited on the arrival came');
  const taken = lock.takeRequests();
  t.deepEqual(
    taken.map((r) => r.line),
    ['late'],
  );
  taken[0]!.answer('served');
  t.false(await lock.requestsDue(), 'nobody else is expected');
  await lock.release();
  t.deepEqual((await late.done).split('\n'), ['woken', 'served']);
});
