// Cross-process locks on a file, shared or exclusive, held by the kernel (fcntl via os-lock): when
// a holder dies, even by kill -9, the kernel drops its lock, so there is no stale-lock guessing.
// fcntl locks belong to the process, not the file descriptor, and closing any descriptor of the
// file drops them all; so each process opens a lock file once and counts its own holders here.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { lock as osLock, unlock as osUnlock } from 'os-lock';
import { PstoreError, errnoCode } from '../errors.js';

export type LockMode = 'shared' | 'exclusive';

export interface LockOptions {
  mode: LockMode;
  /** give up after this long, with EPSTORE_BUSY; 0 means try once */
  waitMs: number;
  /** what is being locked, for messages: "store /x", "prefix /y" */
  what: string;
  /** called once if the lock is not free at once */
  onWait?: () => void;
}

export interface HeldLock extends AsyncDisposable {
  release(): Promise<void>;
}

interface ProcessState {
  /** 'unlockable': a reader's lock where no lock file exists and none may be made (see openLockFile) */
  fh: fsp.FileHandle | 'unlockable' | undefined;
  mode: LockMode | undefined;
  holders: number;
  /** settles when the kernel lock for the current holders is taken */
  osReady: Promise<void> | undefined;
  /** settles when the last holder's descriptor is closed: closing it drops every lock this
   *  process has on the file, so a new kernel lock must not be taken before that */
  closing: Promise<void> | undefined;
  wakeups: Array<() => void>;
}

const states = new Map<string, ProcessState>();

function stateOf(file: string): ProcessState {
  let s = states.get(file);
  if (!s) {
    s = { fh: undefined, mode: undefined, holders: 0, osReady: undefined, closing: undefined, wakeups: [] };
    states.set(file, s);
  }
  return s;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function acquireLock(file: string, opts: LockOptions): Promise<HeldLock> {
  const s = stateOf(file);
  const deadline = Date.now() + opts.waitMs;
  let told = false;
  const tell = () => { if (!told) { told = true; opts.onWait?.(); } };

  // In-process: shared holders share one kernel lock; an exclusive holder is alone.
  while (s.holders > 0 && (opts.mode === 'exclusive' || s.mode === 'exclusive')) {
    tell();
    const left = deadline - Date.now();
    if (left <= 0) throw busy(file, opts);
    await Promise.race([new Promise<void>((r) => s.wakeups.push(r)), sleep(left)]);
  }
  s.holders++;
  s.mode = opts.mode;
  s.osReady ??= takeOsLock(file, s, opts, deadline, tell);
  try {
    await s.osReady;
  } catch (err) {
    await dropHolder(file, s);
    throw err;
  }
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    await dropHolder(file, s);
  };
  return { release, [Symbol.asyncDispose]: release };
}

async function takeOsLock(file: string, s: ProcessState, opts: LockOptions, deadline: number, tell: () => void): Promise<void> {
  let delay = 2;
  await s.closing;
  for (;;) {
    s.fh ??= await openLockFile(file, opts.mode);
    if (s.fh === 'unlockable') return;
    try {
      await osLock(s.fh.fd, { exclusive: opts.mode === 'exclusive', immediate: true });
      // The holder before us may have deleted the lock file (a failed new prefix is removed
      // whole): a lock on an unlinked file excludes nobody, so start over on the new one.
      if (await stillNamed(file, s.fh)) return;
      await osUnlock(s.fh.fd).catch(() => {});
      await s.fh.close();
      s.fh = undefined;
      continue;
    } catch (err) {
      const code = errnoCode(err);
      if (code !== 'EAGAIN' && code !== 'EACCES' && code !== 'EBUSY') throw err;
    }
    tell();
    if (Date.now() >= deadline) throw busy(file, opts);
    await sleep(Math.min(delay, Math.max(1, deadline - Date.now())) * (0.5 + Math.random()));
    delay = Math.min(delay * 2, 100);
  }
}

/**
 * Writers open (and create) the lock file for writing. A reader that may not write (a read-only
 * mount, another user's store or prefix) opens it read-only, which still takes a shared fcntl
 * lock; where no lock file exists and none can be made, no writer has ever held one there and
 * none can write there now, so the reader proceeds without one.
 */
async function openLockFile(file: string, mode: LockMode): Promise<fsp.FileHandle | 'unlockable'> {
  try {
    await fsp.mkdir(path.dirname(file), { recursive: true });
    return await fsp.open(file, 'a+');
  } catch (err) {
    if (mode === 'exclusive' || !DENIED.has(errnoCode(err) ?? '')) throw err;
  }
  try {
    return await fsp.open(file, 'r');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return 'unlockable';
    throw err;
  }
}

const DENIED = new Set(['EACCES', 'EPERM', 'EROFS']);

async function stillNamed(file: string, fh: fsp.FileHandle): Promise<boolean> {
  const [held, named] = await Promise.all([fh.stat(), fsp.stat(file).catch(() => undefined)]);
  return named !== undefined && named.ino === held.ino && named.dev === held.dev;
}

async function dropHolder(file: string, s: ProcessState): Promise<void> {
  s.holders--;
  if (s.holders > 0) return;
  const fh = s.fh;
  s.fh = undefined;
  s.mode = undefined;
  s.osReady = undefined;
  if (fh && fh !== 'unlockable') {
    s.closing = (async () => {
      await osUnlock(fh.fd).catch(() => {});
      await fh.close();
    })();
    await s.closing;
  }
  for (const w of s.wakeups.splice(0)) w();
}

function busy(file: string, opts: LockOptions): PstoreError {
  return new PstoreError('EPSTORE_BUSY', `${opts.what} is busy: another pstore process holds ${file} (waited ${Math.round(opts.waitMs / 1000)} s; see --wait)`, { subject: file });
}
