// The lock primitive itself (lib/fs/lock.ts), between real processes: shared holders
// coexist, exclusive excludes both ways, a holder killed with SIGKILL frees the lock at once, one
// file reached by two paths is one lock, and a reader that may not write still locks (or, where no
// lock file exists and none can be made, proceeds).

import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { REPO } from '../_helpers/cli.js';
import { bindReadOnly, needsRoot } from '../_helpers/environment.js';
import { tempDir } from '../_helpers/tmp.js';

const LOCK_MODULE = path.join(REPO, 'dist', 'lib', 'fs', 'lock.js');

/** A child that takes the lock and prints `held` (or `busy`), then holds it until killed. */
function holder(
  file: string,
  mode: 'shared' | 'exclusive',
  waitMs = 0,
): { child: ChildProcess; state: Promise<string> } {
  const script = `
    const { acquireLock } = await import(${JSON.stringify(LOCK_MODULE)});
    try {
      await acquireLock(${JSON.stringify(file)}, { mode: ${JSON.stringify(mode)}, waitMs: ${waitMs}, what: 'test' });
      console.log('held');
      setInterval(() => {}, 1000);
    } catch (err) {
      console.log(err.code === 'EPSTORE_BUSY' ? 'busy' : 'error ' + err.code + ' ' + err.message);
      process.exit(0);
    }`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const state = new Promise<string>((resolve) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.on('exit', () => resolve(out.trim() || 'exited'));
  });
  return { child, state };
}

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
  const waiter = holder(file, 'exclusive', 20_000);
  await new Promise((r) => setTimeout(r, 300));
  const started = Date.now();
  kill(x.child);
  t.is(await waiter.state, 'held');
  t.true(Date.now() - started < 5000, 'taken soon after the holder died');
  kill(waiter.child);
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

test('a reader on a read-only mount takes a shared lock that excludes writers; with no lock file it proceeds', async (t) => {
  if (needsRoot(t)) return;
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
});
