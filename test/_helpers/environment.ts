// Hostile environments made for real (issue 7): small tmpfs mounts (full disk, no inodes), read-only
// bind mounts, and a second user. They need root, which CI has; `rootTest` registers such a test,
// skipped elsewhere. Every mount is undone when its test ends.

import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { promisify } from 'node:util';
import test, { type ExecutionContext } from 'ava';
import { makeTemp } from './tmp.js';

const run = promisify(execFile);

export const IS_ROOT = process.getuid?.() === 0;

/**
 * A test that mounts filesystems or creates a user: `test` as root (CI runs as root), else
 * `test.skip`, so that elsewhere it is reported as skipped, never as passed.
 */
export const rootTest = IS_ROOT ? test : test.skip;

async function umountLater(t: ExecutionContext, dir: string): Promise<void> {
  t.teardown(async () => {
    await run('umount', ['-l', dir]).catch(() => {});
    await fsp.rm(dir, { recursive: true, force: true }).catch(() => {});
  });
}

/** A fresh tmpfs of `size` (e.g. '4m') with at most `inodes` inodes, mounted on a new temp dir. */
export async function mountTmpfs(
  t: ExecutionContext,
  opts: { size: string; inodes?: number },
): Promise<string> {
  const dir = await makeTemp('tmpfs');
  const options = [
    `size=${opts.size}`,
    'mode=0755',
    ...(opts.inodes ? [`nr_inodes=${opts.inodes}`] : []),
  ].join(',');
  await run('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
  await umountLater(t, dir);
  return dir;
}

/** `src` seen read-only at a new temp dir (a read-only bind mount). */
export async function bindReadOnly(t: ExecutionContext, src: string): Promise<string> {
  const dir = await makeTemp('robind');
  await run('mount', ['--bind', src, dir]);
  await umountLater(t, dir);
  await run('mount', ['-o', 'remount,bind,ro', dir]);
  return dir;
}

/** Fill the filesystem holding `dir` until no byte is left (a file `filler` that tests can delete). */
export async function fillFilesystem(dir: string): Promise<string> {
  const filler = `${dir}/.filler`;
  const fh = await fsp.open(filler, 'w');
  const chunk = Buffer.alloc(64 * 1024, 0x55);
  try {
    for (;;) await fh.write(chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    await fh.close().catch(() => {});
  }
  // Whatever partial block is left: write single bytes until ENOSPC.
  await fsp.appendFile(filler, Buffer.alloc(4096)).catch(() => {});
  return filler;
}

export interface OtherUser {
  name: string;
  uid: number;
  gid: number;
}

let other: Promise<OtherUser> | undefined;

/** A second, unprivileged user (created once with useradd), for permission tests. */
export function otherUser(): Promise<OtherUser> {
  other ??= (async () => {
    const name = 'pstore-test-other';
    await run('id', ['-u', name]).catch(() =>
      run('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name]),
    );
    const uid = Number((await run('id', ['-u', name])).stdout.trim());
    const gid = Number((await run('id', ['-g', name])).stdout.trim());
    return { name, uid, gid };
  })();
  return other;
}

/** Let every user traverse and read `dir` and its parents' temp dir (mkdtemp makes them 0700). */
export async function worldReadable(...dirs: string[]): Promise<void> {
  for (const d of dirs) await run('chmod', ['-R', 'a+rX', d]);
}

/** Leave exactly about `bytes` free on a filesystem that `fillFilesystem` filled (shrinks the filler). */
export async function leaveFree(filler: string, bytes: number): Promise<void> {
  const st = await fsp.stat(filler);
  await fsp.truncate(filler, Math.max(0, st.size - bytes));
}

/** `src` seen at `dir` too (a bind mount), undone when the test ends; `unmount` undoes it earlier. */
export async function bindMount(t: ExecutionContext, src: string, dir: string): Promise<void> {
  await run('mount', ['--bind', src, dir]);
  t.teardown(() =>
    run('umount', ['-l', dir]).then(
      () => {},
      () => {},
    ),
  );
}

/**
 * Unmount `dir`. "target is busy" is retried for up to 2 s: a process that just exited may still
 * be releasing its files there. A handle this process or a pstore process keeps open stays busy
 * past that and still fails the test.
 */
export async function unmount(dir: string): Promise<void> {
  for (let tries = 1; ; tries++) {
    try {
      await run('umount', [dir]);
      return;
    } catch (err) {
      const busy = String((err as { stderr?: string }).stderr).includes('target is busy');
      if (!busy || tries >= 20) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * The CLI exited 9 (the environment refused) with `code`, naming a path under `under`, as the
 * --json error object on stderr says.
 */
export function assertRefused(
  t: ExecutionContext,
  r: { code: number | null; stderr: string; stdout: string },
  code: string,
  under: string,
): void {
  const dump = `exit ${r.code}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
  t.is(r.code, 9, dump);
  let error: { code?: string; subject?: string } = {};
  try {
    error = (JSON.parse(r.stderr.trim().split('\n').pop() ?? '') as { error: typeof error }).error;
  } catch {
    t.fail(`stderr is not a --json error:\n${dump}`);
  }
  t.is(error.code, code, dump);
  t.true(
    typeof error.subject === 'string' && error.subject.startsWith(under),
    `the error names a path under ${under}:\n${dump}`,
  );
}

const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

/**
 * Environment for a child whose clock is `offsetMs` off (negative: behind), as on a host with a
 * wrong clock: libfaketime when installed (apt-get install faketime), else Date replaced by a
 * module loaded with --import. Only the process's clock moves; the kernel's (ctime) does not.
 */
export async function shiftedClock(offsetMs: number): Promise<Record<string, string>> {
  const hasLib = await fsp.access(LIBFAKETIME).then(
    () => true,
    () => false,
  );
  if (hasLib)
    return {
      LD_PRELOAD: LIBFAKETIME,
      FAKETIME: `${offsetMs >= 0 ? '+' : ''}${Math.round(offsetMs / 1000)}s`,
      FAKETIME_DONT_FAKE_MONOTONIC: '1',
    };
  const shim = `const R=Date,o=${offsetMs};globalThis.Date=class extends R{constructor(...a){a.length?super(...a):super(R.now()+o)}static now(){return R.now()+o}}`;
  return { NODE_OPTIONS: `--import=data:text/javascript,${encodeURIComponent(shim)}` };
}
