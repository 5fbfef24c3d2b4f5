// Cross-process locks, shared or exclusive, held by the kernel with no native code (SPEC.md §Locks).
// A lock is named by its lock file's inode; holding it means having bound abstract Unix socket
// names derived from that inode (Linux's abstract namespace: no file is created, nothing needs
// writing, and the kernel frees a name the moment its process dies, kill -9 included). There is no
// lock-file content, no PID and no stale-lock guess: a bound name always belongs to a live process.
//
//   exclusive: bind X, then bind every one of SLOTS slot names (waiting for shared holders to go)
//   shared:    bind one free slot name, then make sure nobody listens on X (else step back)
//
// Each side claims its own name before it checks the other's, so the two can never both succeed.
// Within one process, shared holders share one slot; an exclusive holder is alone.
//
// Waiting: a process that finds a name taken connects to it and waits for that connection to
// close. A holder keeps such connections open and closes them right after it unbinds; when it
// dies the kernel closes them (kill -9 included), so a waiter tries again the moment the name is
// free instead of after a poll. A wake-up is only a prompt to try binding again: exclusion rests on
// the binds alone, so an early, late or lost wake-up costs a retry, never safety. Where nobody
// listens (every slot taken by readers of other processes, a name bound but not yet listening) the
// waiter polls with backoff as before; each wait is also bounded, so a missed close costs a poll.
//
// Requests: a waiter for an exclusive holder may send one line on that connection (LockOptions.
// request). A holder that takes it (HeldLock.takeRequests) writes TAKEN, later ANSWER and the
// answer, and the waiter's acquireLock throws LockAnswered: the holder did the waiter's work. A
// request the holder never takes is dropped when it unbinds, and the waiter tries to bind as ever.

import { constants as fsc, promises as fsp } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { nowMs } from '../core/clock.js';
import { PstoreError, errnoCode, isDenied } from '../core/errors.js';
import { statOrUndefined } from './exists.js';

export type LockMode = 'shared' | 'exclusive';

export interface LockOptions {
  mode: LockMode;
  /** give up after this long, with EPSTORE_BUSY; 0 means try once */
  waitMs: number;
  /** what is being locked, for messages: "store /x", "prefix /y" */
  what: string;
  /** called once if the lock is not free at once */
  onWait?: () => void;
  /**
   * exclusive only: the line (no newline) to send an exclusive holder while waiting for it, made
   * afresh for each wait; undefined sends none. An answer ends the wait with LockAnswered.
   */
  request?: (file: string) => Promise<string | undefined>;
}

export interface HeldLock extends AsyncDisposable {
  release(): Promise<void>;
  /** the requests waiters have sent so far and no earlier call took; each waiter is told TAKEN */
  takeRequests(): LockRequest[];
  /**
   * Whether there are requests to take, after waiting for the writers that were waiting on this
   * process's arrival when it took the lock (they ask right after) and have not asked yet: until
   * each has, or none has asked for LATE_REQUEST_MS.
   */
  requestsDue(): Promise<boolean>;
}

/** A waiter's request, taken: answer it, or decline it (the waiter then tries the lock again). */
export interface LockRequest {
  line: string;
  answer(reply: string): void;
  decline(): void;
}

/** acquireLock's outcome when the holder served the request instead of handing over the lock. */
export class LockAnswered extends Error {
  constructor(readonly answer: string) {
    super('the lock holder answered the request');
    this.name = 'LockAnswered';
  }
}

const TAKEN = 'TAKEN';
const ANSWER = 'ANSWER ';
/** A request longer than this is not one: the connection is just a waiter. */
const MAX_REQUEST = 1 << 16;

/** Concurrent shared holders across processes; an exclusive holder binds them all. */
const SLOTS = 64;

interface ProcessState {
  /** the names this process has bound for its current holders */
  bound: Bound[] | undefined;
  mode: LockMode | undefined;
  holders: number;
  /** settles when the names for the current holders are bound */
  osReady: Promise<void> | undefined;
  /** settles when the last holder's names are unbound */
  closing: Promise<void> | undefined;
  wakeups: Array<() => void>;
  /** requests expected (writers that waited on our arrival) and taken, while held exclusive */
  expected: number;
  taken: number;
}

const states = new Map<string, ProcessState>();

function stateOf(file: string): ProcessState {
  let s = states.get(file);
  if (!s) {
    s = {
      bound: undefined,
      mode: undefined,
      holders: 0,
      osReady: undefined,
      closing: undefined,
      wakeups: [],
      expected: 0,
      taken: 0,
    };
    states.set(file, s);
  }
  return s;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function acquireLock(file: string, opts: LockOptions): Promise<HeldLock> {
  const s = stateOf(file);
  const deadline = Date.now() + opts.waitMs;
  let told = false;
  const tell = () => {
    if (!told) {
      told = true;
      opts.onWait?.();
    }
  };

  // In-process: shared holders share one kernel lock; an exclusive holder is alone.
  while (s.holders > 0 && (opts.mode === 'exclusive' || s.mode === 'exclusive')) {
    tell();
    const left = deadline - Date.now();
    if (left <= 0) throw busy(file, opts);
    await Promise.race([new Promise<void>((r) => s.wakeups.push(r)), sleep(left)]);
  }
  s.holders++;
  s.mode = opts.mode;
  s.osReady ??= takeKernelLock(file, s, opts, deadline, tell);
  try {
    await s.osReady;
  } catch (err) {
    await dropHolder(s);
    throw err;
  }
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    await dropHolder(s);
  };
  const takeRequests = () => {
    const taken = s.mode === 'exclusive' && s.bound?.[0] ? takeFrom(s.bound[0]) : [];
    s.taken += taken.length;
    return taken;
  };
  const requestsDue = () => lateRequests(s);
  return { release, takeRequests, requestsDue, [Symbol.asyncDispose]: release };
}

/** How long a holder waits for the next request of a writer that waited on its arrival. */
const LATE_REQUEST_MS = 1000;

async function lateRequests(s: ProcessState): Promise<boolean> {
  const x = s.mode === 'exclusive' ? s.bound?.[0] : undefined;
  if (!x) return false;
  while (!x.requests.size && s.taken < s.expected) {
    const asked = await Promise.race([
      new Promise<boolean>((r) => x.requested.push(() => r(true))),
      sleep(LATE_REQUEST_MS).then(() => false),
    ]);
    if (!asked) return false;
  }
  return x.requests.size > 0;
}

function takeFrom(x: Bound): LockRequest[] {
  const taken = [...x.requests].map(([c, line]) => {
    c.write(`${TAKEN}\n`);
    return {
      line,
      answer: (reply: string) => {
        // Not destroyed on unbind but once the answer is written whole, keeping the process
        // alive until then (the waiter's copy is in the kernel once 'finish' fires).
        x.waiters.delete(c);
        c.ref();
        c.end(`${ANSWER}${reply}\n`, () => c.destroy());
      },
      decline: () => c.destroy(),
    };
  });
  x.requests.clear();
  return taken;
}

async function takeKernelLock(
  file: string,
  s: ProcessState,
  opts: LockOptions,
  deadline: number,
  tell: () => void,
): Promise<void> {
  let delay = 2;
  await s.closing;
  for (;;) {
    const id = await lockIdentity(file, opts.mode);
    if (id === undefined) {
      s.bound = []; // see lockIdentity: nobody can write here, so nobody can need excluding
      return;
    }
    const got =
      opts.mode === 'exclusive' ? await bindExclusive(id, deadline, tell) : await bindShared(id);
    if (got.bound) {
      // The holder before us may have deleted the lock file (a failed new prefix is removed whole):
      // names derived from a file that is gone exclude nobody, so start over on the new one.
      if ((await lockIdentity(file, 'shared')) === id) {
        s.bound = got.bound;
        // Writers waiting on this process's arrival may now find X bound and ask it.
        if (opts.mode === 'exclusive') s.expected = await releaseArrivals();
        return;
      }
      await unbindAll(got.bound);
      continue;
    }
    tell();
    if (Date.now() >= deadline) throw busy(file, opts);
    const request = opts.mode === 'exclusive' ? await opts.request?.(file) : undefined;
    delay = await waitForHolder(got.heldBy, delay, deadline, request);
  }
}

/** What one attempt to bind got: the names, or the name whose holder to wait for (if known). */
type Attempt = { bound: Bound[]; heldBy?: undefined } | { bound?: undefined; heldBy?: string };

/**
 * The lock's identity: its lock file's device and inode, so every path to one file names one lock.
 * Writers create the file. A reader that may not write uses it if it exists; where none exists and
 * none may be made, no writer has ever locked there and none can write there now: `undefined`,
 * and the reader proceeds without a lock.
 */
async function lockIdentity(file: string, mode: LockMode): Promise<string | undefined> {
  try {
    const st = await fsp.stat(file);
    // Only a process that may write the lock file takes it exclusive, as fcntl's write locks
    // need a writable descriptor: a user who may only read a prefix or store never holds it
    // as a writer (and is told so: EACCES, EROFS).
    if (mode === 'exclusive') await fsp.access(file, fsc.W_OK);
    return identityOf(st);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  try {
    await makeDir(path.dirname(file));
    await (await fsp.open(file, 'a')).close();
  } catch (err) {
    if (mode === 'exclusive' || !isDenied(err)) throw err;
    return undefined;
  }
  return lockIdentity(file, mode);
}

const identityOf = (st: { dev: number; ino: number }) =>
  `${st.dev.toString(36)}.${st.ino.toString(36)}`;

/** mkdir -p, but with the real reason: Node's recursive mkdir says ENOENT on a read-only mount. */
async function makeDir(dir: string): Promise<void> {
  try {
    await fsp.mkdir(dir, { recursive: true });
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
    await makeDir(path.dirname(dir));
    await fsp.mkdir(dir);
  }
}

const nameOf = (id: string, part: string) => `\0pstore-lock/${id}/${part}`;

/** Bind X, then every slot: waits (holding X, so new shared holders stay out) until the deadline. */
async function bindExclusive(id: string, deadline: number, tell: () => void): Promise<Attempt> {
  const xName = nameOf(id, 'x');
  const x = await bind(xName);
  if (!x) return { heldBy: xName };
  const bound = [x];
  let delay = 2;
  for (let slot = 0; slot < SLOTS;) {
    const slotName = nameOf(id, String(slot));
    const server = await bind(slotName);
    if (server) {
      bound.push(server);
      slot++;
      continue;
    }
    tell();
    if (Date.now() >= deadline) {
      await unbindAll(bound);
      return {};
    }
    delay = await waitForHolder(slotName, delay, deadline);
  }
  return { bound };
}

/** Bind a free slot, then step back if an exclusive holder (or one about to be) listens on X. */
async function bindShared(id: string): Promise<Attempt> {
  const start = Math.floor(Math.random() * SLOTS);
  const xName = nameOf(id, 'x');
  for (let i = 0; i < SLOTS; i++) {
    const server = await bind(nameOf(id, String((start + i) % SLOTS)));
    if (!server) continue;
    if (!(await listening(xName))) return { bound: [server] };
    await unbindAll([server]);
    return { heldBy: xName };
  }
  // Every slot taken: by an exclusive holder (then wait on its X) or by 64 shared ones (back off).
  return (await listening(xName)) ? { heldBy: xName } : {};
}

/** A bound name and the connections of processes waiting for it (closed when it is unbound). */
interface Bound {
  server: net.Server;
  waiters: Set<net.Socket>;
  /** the request line each waiter sent, until taken */
  requests: Map<net.Socket, string>;
  /** called once at the next request line */
  requested: Array<() => void>;
}

/** Bind an abstract socket name; undefined when another process has it. */
function bind(name: string): Promise<Bound | undefined> {
  return new Promise((resolve, reject) => {
    const waiters = new Set<net.Socket>();
    const requests = new Map<net.Socket, string>();
    const requested: Array<() => void> = [];
    // Every connection is a waiter (or a shared request checking X, which closes it at once):
    // kept open until the name is unbound, never keeping this process alive.
    const server = net.createServer((c) => {
      c.unref();
      c.on('error', () => {}); // a waiter that gives up resets its end; nothing to report
      waiters.add(c);
      readRequest(c, (line) => {
        requests.set(c, line);
        for (const tell of requested.splice(0)) tell();
      });
      c.once('close', () => {
        waiters.delete(c);
        requests.delete(c); // a waiter that is gone (kill -9 included) is never served
      });
    });
    server.once('error', (err) =>
      errnoCode(err) === 'EADDRINUSE' ? resolve(undefined) : reject(err),
    );
    server.listen({ path: name, exclusive: true }, () => {
      server.unref(); // a held lock must not keep the process alive
      resolve({ server, waiters, requests, requested });
    });
  });
}

/** The first line a waiter sends, if any; a waiter that sends too much is only a waiter. */
function readRequest(c: net.Socket, onLine: (line: string) => void): void {
  let buf = '';
  const onData = (chunk: Buffer) => {
    buf += chunk.toString('utf8');
    const end = buf.indexOf('\n');
    if (end >= 0) onLine(buf.slice(0, end));
    if (end >= 0 || buf.length > MAX_REQUEST) c.off('data', onData);
  };
  c.on('data', onData);
}

function listening(name: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect({ path: name });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/** The longest one wait for a holder lasts before the waiter tries again anyway. */
const MAX_WAIT_MS = 1000;

/**
 * Wait until the holder of `name` lets go: connect and wait for the connection to close (the
 * holder closes it on release, the kernel on its death). How long the connection was open, or
 * undefined when nobody listened.
 */
function holderLetGo(
  name: string,
  deadline: number,
  maxMs = MAX_WAIT_MS,
): Promise<number | undefined> {
  return new Promise((resolve) => {
    let connectedAt: number | undefined;
    const c = net.connect({ path: name });
    const done = () => {
      clearTimeout(timer);
      c.destroy();
      resolve(connectedAt === undefined ? undefined : nowMs() - connectedAt);
    };
    const timer = setTimeout(done, Math.max(1, Math.min(maxMs, deadline - Date.now())));
    c.once('connect', () => (connectedAt = nowMs()));
    c.on('error', done);
    c.once('close', done);
  });
}

/**
 * Wait for the holder of `name` (if known), else back off; the next backoff delay. A wait shorter
 * than the delay counts as none (a holder that closes connections at once, as older pstores do,
 * must not turn the wait into a busy loop). With a `request`, an answer throws LockAnswered.
 */
async function waitForHolder(
  name: string | undefined,
  delay: number,
  deadline: number,
  request?: string,
): Promise<number> {
  const waited =
    name === undefined
      ? undefined
      : request === undefined
        ? await holderLetGo(name, deadline)
        : (await askHolder(name, request, deadline)).waited;
  if (waited !== undefined && waited >= delay) return 2;
  await sleep(Math.min(delay, Math.max(1, deadline - Date.now())) * (0.5 + Math.random()));
  return Math.min(delay * 2, 100);
}

/**
 * holderLetGo, sending `request` first. Until the holder has taken it the wait ends at the
 * deadline; once taken it lasts until the answer or the close (the holder is alive while the
 * connection is open: the kernel closes it when the holder dies), so a request the holder acts on
 * is never reported busy.
 */
function askHolder(
  name: string,
  request: string,
  deadline: number,
): Promise<{ waited: number | undefined; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    let connectedAt: number | undefined;
    let buf = '';
    const c = net.connect({ path: name });
    const end = (timedOut: boolean) => {
      clearTimeout(timer);
      c.destroy();
      const waited = connectedAt === undefined ? undefined : nowMs() - connectedAt;
      resolve({ waited, timedOut });
    };
    const done = () => end(false);
    const timer = setTimeout(() => end(true), Math.max(1, deadline - Date.now()));
    c.once('connect', () => {
      connectedAt = nowMs();
      c.write(`${request}\n`);
    });
    c.on('data', (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      if (buf.startsWith(`${TAKEN}\n`)) clearTimeout(timer);
      const at = buf.indexOf(`\n${ANSWER}`);
      const end = at < 0 ? -1 : buf.indexOf('\n', at + 1);
      if (end < 0) return;
      clearTimeout(timer);
      c.destroy();
      reject(new LockAnswered(buf.slice(at + 1 + ANSWER.length, end)));
    });
    c.on('error', done);
    c.once('close', done);
  });
}

/**
 * Send a request to the exclusive holder of `file`'s lock, if one listens, taking and making
 * nothing (no bind, no lock file): how a writer that expects to be served asks before it loads
 * what running its own transaction needs. 'nobody' when no file exists or nobody listens on X;
 * 'done' when `request` makes no line or the holder lets go without answering (the caller then
 * takes the lock as usual); throws LockAnswered with the answer, and EPSTORE_BUSY when the
 * deadline passes before the holder took the request.
 */
export async function askExclusiveHolder(
  file: string,
  opts: Omit<LockOptions, 'mode' | 'request'> & Required<Pick<LockOptions, 'request'>>,
): Promise<'done' | 'nobody'> {
  const st = statOrUndefined(file);
  if (!st) return 'nobody';
  const xName = nameOf(identityOf(st), 'x');
  if (opts.waitMs <= 0 || !(await listening(xName))) return 'nobody';
  opts.onWait?.();
  const request = await opts.request(file);
  if (request === undefined) return 'done';
  const { timedOut } = await askHolder(xName, request, Date.now() + opts.waitMs);
  if (timedOut) throw busy(file, opts);
  return 'done';
}

// Arrivals (SPEC.md §Group commit, arrivals). Writers started together on a prefix whose lock
// nobody holds yet would each load everything a transaction needs before the first of them binds
// X, and only then queue. The first to arrive binds an arrival name derived from the lock file's
// path (the file may not exist yet) and keeps it until it holds an exclusive lock; the others wait
// on that name, then find X bound and send it their request. The name is only a hint: it excludes
// nobody, and both sides bound it in time, so an arrival that never takes a lock costs a wait.

/** How long an arrival name is kept at most, and how long a writer waits on arrivals in all. */
export const ARRIVAL_MS = 20_000;
const ARRIVALS = Symbol.for('pstore.lock.arrivals');
/**
 * This process's arrival names: unbound once it holds an exclusive lock, or after ARRIVAL_MS. One
 * set per process, not per copy of this module: the CLI's entry for a waiting writer (ask.cjs) and
 * its entry for every command (cli.cjs) are separate bundles, each with this module, and the name
 * one binds as the first to arrive is the one the other lets go when it takes the lock.
 */
const arrivals: Set<Bound> = ((globalThis as { [ARRIVALS]?: Set<Bound> })[ARRIVALS] ??= new Set());

/**
 * For a writer that found nobody holding `file` (before it loads what a transaction needs):
 * 'first' when it bound the arrival name (it goes on to take the lock itself), 'woken' when
 * another process's arrival ended (that process holds the lock now, or gave up: ask again), or
 * at `until`.
 */
export async function arriveAt(file: string, until: number): Promise<'first' | 'woken'> {
  const name = arrivalName(file);
  // Waiting is tried before binding: most arrive late, and a connection loads less than a bind
  // (net's listen loads node:cluster). Not bounded by a second as a lock wait: a waiter must be
  // connected, and so counted by the holder (requestsDue), when the arrival is let go.
  if ((await holderLetGo(name, until, Infinity)) !== undefined) return 'woken';
  const bound = await bind(name);
  if (bound) {
    arrivals.add(bound);
    setTimeout(() => void releaseArrival(bound), ARRIVAL_MS).unref();
    return 'first';
  }
  await sleep(2); // bound by another in between, not listening yet: a short pause, not a spin
  return 'woken';
}

/** The abstract socket name of the arrival at `file` (a test looks for it in /proc/net/unix). */
export const arrivalName = (file: string) => `\0pstore-arrive/${pathKey(path.resolve(file))}`;

async function releaseArrival(bound: Bound): Promise<void> {
  if (arrivals.delete(bound)) await unbindAll([bound]);
}

/** Let go of this process's arrival names (it will take no lock after all). */
export async function releaseArrivals(): Promise<number> {
  const waiting = [...arrivals].reduce((n, b) => n + b.waiters.size, 0);
  await Promise.all([...arrivals].map(releaseArrival));
  return waiting;
}

/**
 * A short name for a path (53-bit cyrb53): abstract socket names hold at most 107 bytes, and a
 * waiter computes it before it loads anything (node:crypto included, test/cli/startup-loads).
 */
function pathKey(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}

async function unbindAll(bound: readonly Bound[]): Promise<void> {
  await Promise.all(
    bound.map(
      ({ server, waiters }) =>
        new Promise<void>((r) => {
          // Closing the listening socket frees the name at once; only then wake the waiters, so
          // that the one that binds next finds it free. 'close' waits for the connections.
          server.close(() => r());
          for (const c of waiters) c.destroy();
        }),
    ),
  );
}

async function dropHolder(s: ProcessState): Promise<void> {
  s.holders--;
  if (s.holders > 0) return;
  const bound = s.bound;
  s.bound = undefined;
  s.mode = undefined;
  s.osReady = undefined;
  s.expected = 0;
  s.taken = 0;
  if (bound) {
    s.closing = unbindAll(bound);
    await s.closing;
  }
  for (const w of s.wakeups.splice(0)) w();
}

function busy(file: string, opts: Pick<LockOptions, 'what' | 'waitMs'>): PstoreError {
  return new PstoreError(
    'EPSTORE_BUSY',
    `${opts.what} is busy: another pstore process holds ${file} (waited ${Math.round(opts.waitMs / 1000)} s)`,
    { subject: file },
  );
}
