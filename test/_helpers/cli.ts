// Run the built CLI (dist/cli/pstore.cjs, the `pstore` command) as a real child process.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository: the nearest folder above this module with a package.json. Not a fixed `../..`,
 * because `npm test` runs the tests compiled into .test-build/ (scripts/build-tests.mjs).
 */
export const REPO = repoRoot(path.dirname(fileURLToPath(import.meta.url)));

function repoRoot(dir: string): string {
  if (existsSync(path.join(dir, 'package.json'))) return dir;
  const up = path.dirname(dir);
  if (up === dir) throw new Error('test/_helpers/cli.ts: no package.json above it');
  return repoRoot(up);
}
export const CLI = path.join(REPO, 'dist', 'cli', 'pstore.cjs'); // the `pstore` command (package.json bin)

/** The commands that act on a prefix (`--prefix DIR`). */
export const PREFIX_COMMANDS = [
  'activate',
  'deactivate',
  'rollback',
  'generations',
  'status',
  'recover',
  'prune',
  'hash',
] as const;

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** bytes written to stdin (stdin is closed either way, so `add -` never hangs) */
  input?: string | Uint8Array;
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** kill with SIGKILL after this many ms (default 60 s) */
  timeoutMs?: number;
  /** bypass the per-worker cap on simultaneous children (for tests that need N at once) */
  unlimited?: boolean;
  /** run as this user (the test must run as root) */
  user?: { uid: number; gid: number };
  /** a command the CLI runs under, as `strace -f -o LOG` (its arguments, then node and the CLI) */
  under?: readonly string[];
}

/** Environment for children: nothing from the developer's shell that changes pstore's behaviour. */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('PSTORE_')) delete env[k];
  delete env.NODE_OPTIONS; // ava's --import=tsx must not leak into the CLI under test
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

let checked = false;
/**
 * Fail loudly when dist/ is missing or older than a source the CLI is built from (the sources
 * reachable by relative imports from cli/main.ts; files nothing built imports yet do not count).
 * PSTORE_TEST_NO_BUILD_CHECK=1 skips the check.
 */
export function assertBuilt(): void {
  if (checked || process.env.PSTORE_TEST_NO_BUILD_CHECK === '1') return;
  if (!existsSync(CLI))
    throw new Error(`${CLI} is missing: run \`npm run build\` (or npm test) first`);
  const stale: string[] = [];
  const seen = new Set<string>();
  const visit = (rel: string): void => {
    if (seen.has(rel)) return;
    seen.add(rel);
    const src = path.join(REPO, rel);
    if (!existsSync(src)) return;
    // cli/ is built into one bundle (scripts/bundle-cli.mjs), lib/ by tsc file by file
    const js = rel.startsWith('cli/')
      ? path.join(REPO, 'dist', 'cli', 'cli.cjs')
      : path.join(REPO, 'dist', rel.replace(/\.ts$/, '.js'));
    if (!existsSync(js) || statSync(js).mtimeMs + 1 < statSync(src).mtimeMs) stale.push(rel);
    for (const m of readFileSync(src, 'utf8').matchAll(
      /(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)\.js'/g,
    )) {
      visit(path.posix.normalize(path.posix.join(path.posix.dirname(rel), `${m[1]!}.ts`)));
    }
  };
  visit('cli/main.ts');
  if (stale.length)
    throw new Error(
      `dist/ is older than ${stale.join(', ')}: run \`npm run build\` (or npm test) first`,
    );
  checked = true;
}

// At most this many CLI children per test worker at once: ava runs a file's tests concurrently and
// this machine may have 2 cores; a storm of node processes only makes timeouts flaky.
const MAX_CHILDREN = 4;
let running = 0;
const waiting: Array<() => void> = [];

async function slot(): Promise<() => void> {
  while (running >= MAX_CHILDREN) await new Promise<void>((r) => waiting.push(r));
  running++;
  return () => {
    running--;
    waiting.shift()?.();
  };
}

/** Spawn the CLI and return the child at once (for tests that kill it or start many together). */
export function spawnCli(
  args: readonly string[],
  opts: Omit<CliOptions, 'unlimited' | 'timeoutMs'> = {},
): ChildProcess {
  assertBuilt();
  const [cmd, ...pre] = [...(opts.under ?? []), process.execPath];
  const child = spawn(cmd!, [...pre, CLI, ...args], {
    cwd: opts.cwd ?? REPO,
    env: childEnv(opts.env),
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(opts.user ? { uid: opts.user.uid, gid: opts.user.gid } : {}),
  });
  child.stdin!.on('error', () => {}); // EPIPE when the child exits before reading stdin
  if (opts.input !== undefined) child.stdin!.end(opts.input);
  else child.stdin!.end();
  return child;
}

/** Collect a spawned child's output and exit status. */
export function finished(child: ChildProcess, timeoutMs = 60_000): Promise<CliResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (c: Buffer) => out.push(c));
  child.stderr!.on('data', (c: Buffer) => err.push(c));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

/** Run `pstore ARGS...` to completion. */
export async function runCli(args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
  const release = opts.unlimited ? () => {} : await slot();
  try {
    const { timeoutMs, unlimited: _u, ...spawnOpts } = opts;
    return await finished(spawnCli(args, spawnOpts), timeoutMs);
  } finally {
    release();
  }
}

/** `pstore --store STORE ARGS...` */
export function storeCli(
  store: string,
): (args: readonly string[], opts?: CliOptions) => Promise<CliResult> {
  return (args, opts) => runCli(['--store', store, ...args], opts);
}

/** `pstore --store STORE ARGS...` spawned: the child at once, and its result when it ends. */
export function spawnStoreCli(
  store: string,
  args: readonly string[],
  env: Record<string, string> = {},
  timeoutMs?: number,
  under?: readonly string[],
): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawnCli(['--store', store, ...args], { env, ...(under ? { under } : {}) });
  return { child, done: finished(child, timeoutMs) };
}

/** Human-readable dump of a result, for assertion messages. */
export function describe(r: CliResult): string {
  return `exit ${r.code ?? r.signal}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}

/** Parse stdout as JSON, with the whole result in the error if it is not JSON. */
export function jsonOut<T = unknown>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON:\n${describe(r)}`);
  }
}
