// The lock primitive itself (lib/fs/lock.ts), between real processes: shared holders
// coexist, exclusive excludes both ways, a holder killed with SIGKILL frees the lock at once, one
// file reached by two paths is one lock, and a reader that may not write still locks (or, where no
// lock file exists and none can be made, proceeds). A waiter waits on a connection to the holder's
// name, which the holder closes when it releases: it is woken, not left polling.

import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { REPO } from '../_helpers/cli.js';
import { bindReadOnly, rootTest } from '../_helpers/environment.js';
import { tempDir } from '../_helpers/tmp.js';

const LOCK_MODULE = path.join(REPO, 'dist', 'lib', 'fs', 'lock.js');

/**
 * A child that takes the lock and prints `held` (or `busy`), then holds it until killed, or until
 * a line on its stdin, when it releases the lock, prints `released` and stays alive.
 */
function holder(
  file: string,
  mode: 'shared' | 'exclusive',
  waitMs = 0,
): { child: ChildProcess; state: Promise<string>; release: () => Promise<string> } {
  const script = `
    const { acquireLock } = await import(${JSON.stringify(LOCK_MODULE)});
    try {
      const lock = await acquireLock(${JSON.stringify(file)}, { mode: ${JSON.stringify(mode)}, waitMs: ${waitMs}, what: 'test' });
      console.log('held');
      setInterval(() => {}, 1000);
      process.stdin.once('data', async () => { await lock.release(); console.log('released'); });
    } catch (err) {
      console.log(err.code === 'EPSTORE_BUSY' ? 'busy' : 'error ' + err.code + ' ' + err.message);
      process.exit(0);
    }`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.add(child);
  const lines: string[] = [];
  const nextLine = (n: number) =>
    new Promise<string>((resolve) => {
      const check = () => (lines.length > n ? resolve(lines[n]!) : undefined);
      child.stdout!.on('data', check);
      child.on('close', () => resolve(lines[n] ?? 'exited')); // after stdout's last data, unlike 'exit'
      check();
    });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
    const parts = out.split('\n');
    out = parts.pop()!;
    lines.push(...parts.map((l) => l.trim()));
  });
  const release = () => {
    child.stdin!.write('release\n');
    return nextLine(1);
  };
  return { child, state: nextLine(0), release };
}

/** Every holder started, killed after the last test so that a failed one leaves none behind. */
const children = new Set<ChildProcess>();
test.after.always(() => kill(...children));

function kill(...children: ChildProcess[]): void {
  for (const c of children) c.kill('SIGKILL');
}

test('shared holders coexist; exclusive waits for all of them and excludes new shared ones', async (t) => {
  const file = path.join(await tempDir(t, 'lock'), 'locks', 'store.lock');
  const a = holder(file, 'shared');
  const b = holder(file, 'shared');
  t.is(await a.state, 'held');
  t.is(await b.state, 'held');
  t.is(await holder(file, 'exclusive').state, 'busy');
  kill(a.child);
  t.is(await holder(file, 'exclusive').state, 'busy', 'one shared holder is still alive');
  kill(b.child);
  const x = holder(file, 'exclusive', 5000);
  t.is(await x.state, 'held');
  t.is(await holder(file, 'shared').state, 'busy');
  t.is(await holder(file, 'exclusive').state, 'busy');
  kill(x.child);
});

test('a holder killed with SIGKILL frees the lock for a waiting process at once', async (t) => {
  const file = path.join(await tempDir(t, 'lock'), 'lock');
  const x = holder(file, 'exclusive');
  t.is(await x.state, 'held');
  const waiter = holder(file, 'exclusive', 60_000);
  await new Promise((r) => setTimeout(r, 300));
  const started = Date.now();
  kill(x.child);
  t.is(await waiter.state, 'held');
  // Woken by the death, not by its 60 s deadline; the margin is wide for a loaded machine.
  t.true(Date.now() - started < 20_000, 'taken soon after the holder died');
  kill(waiter.child);
});

/** How many sockets have the abstract name `name` (listening and accepted ones): /proc/net/unix. */
async function socketsNamed(name: string): Promise<number> {
  const table = await fsp.readFile('/proc/net/unix', 'utf8');
  // Node binds the name padded with NULs to the full address length; the table shows them as '@'.
  const named = new RegExp(` @${name.replace(/[.]/g, '\\.')}@*$`);
  return table.split('\n').filter((line) => named.test(line)).length;
}

async function until(what: string, ok: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`never: ${what}`);
}

test('a waiter waits on a connection to the holder, which its release closes; a waiter then holds', async (t) => {
  const file = path.join(await tempDir(t, 'lock'), 'lock');
  const x = holder(file, 'exclusive');
  t.is(await x.state, 'held');
  const st = await fsp.stat(file);
  const xName = `pstore-lock/${st.dev.toString(36)}.${st.ino.toString(36)}/x`;
  t.is(await socketsNamed(xName), 1, 'the holder listens on X');
  const waiter = holder(file, 'exclusive', 60_000);
  const reader = holder(file, 'shared', 60_000);
  t.teardown(() => kill(x.child, waiter.child, reader.child));
  // Two waiters connected to X: its listening socket and two accepted connections.
  await until('both waiters connected to X', async () => (await socketsNamed(xName)) === 3);
  t.is(await x.release(), 'released');
  // Both wake at once; which binds first is a race, so the order is not asserted.
  const first = await Promise.race([
    waiter.state.then((state) => ({ state, next: reader, held: waiter })),
    reader.state.then((state) => ({ state, next: waiter, held: reader })),
  ]);
  t.is(first.state, 'held', 'a waiter took the lock while the old holder lives');
  t.is(await first.held.release(), 'released');
  t.is(await first.next.state, 'held');
});

test('two paths to one lock file (a symlinked directory) are one lock', async (t) => {
  const dir = await tempDir(t, 'lock');
  await fsp.mkdir(path.join(dir, 'real'));
  await fsp.symlink('real', path.join(dir, 'alias'));
  const x = holder(path.join(dir, 'real', 'lock'), 'exclusive');
  t.is(await x.state, 'held');
  t.is(await holder(path.join(dir, 'alias', 'lock'), 'shared').state, 'busy');
  kill(x.child);
});

rootTest(
  'a reader on a read-only mount takes a shared lock that excludes writers; with no lock file it proceeds',
  async (t) => {
    const dir = await tempDir(t, 'lock');
    await fsp.mkdir(path.join(dir, 'locks'));
    await fsp.writeFile(path.join(dir, 'locks', 'store.lock'), '');
    const ro = await bindReadOnly(t, dir);
    const reader = holder(path.join(ro, 'locks', 'store.lock'), 'shared');
    t.is(await reader.state, 'held');
    t.is(
      await holder(path.join(dir, 'locks', 'store.lock'), 'exclusive').state,
      'busy',
      'the writer sees the reader',
    );
    kill(reader.child);
    const absent = holder(path.join(ro, 'nowhere', 'store.lock'), 'shared');
    t.is(await absent.state, 'held', 'no lock file and no way to make one: nothing can write here');
    kill(absent.child);
    const writer = holder(path.join(ro, 'nowhere', 'store.lock'), 'exclusive');
    t.regex(await writer.state, /^error EROFS/);
  },
);
