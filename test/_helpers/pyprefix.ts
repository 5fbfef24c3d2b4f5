// A real Python client of a prefix, for the reader tests: a python3 process that polls
// `importlib.metadata.distributions(path=[SITE])` (never the system path) and, for every
// distribution it finds, checks that every file RECORD lists exists with its sha256 and size, then
// imports the package's modules afresh (caches invalidated, sys.modules entries dropped) and checks
// that each module's VERSION (and __init__'s version()) equals the distribution's version.
//
// The invariant this checks is the one pstore promises readers: *while a package's marker is
// visible, everything the marker describes is in place*. A reader cannot look at everything at
// one instant, so each check is bracketed by two stat()s of the .dist-info directory (inode and
// ctime; pstore places a marker unit by renaming a freshly built directory, and removes it by
// renaming it aside, so any removal or replacement changes that identity). When the identity is
// the same before and after, the marker stood the whole time and any problem found is a
// violation; when it changed, the check is discarded as inconclusive (the reader raced a
// transaction that had already taken the marker away first, which is allowed).
//
// A violation whose only problems concern another marker unit of the package (a RECORD-listed .pth
// missing while the .dist-info is visible) is counted separately as well (fileViolationCount
// counts the others): markers-first writers are caught by the plain files they have not placed.
//
// Output: progress lines `{"progress": polls, "violations": n, "checked": n}` every `progressEvery`
// polls on stdout, then one final line `{"result": {...}}`.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ExecutionContext } from 'ava';
import { REPO } from './cli.js';
import { SITE } from './prefix-fixtures.js';

const execFileP = promisify(execFile);

export interface ReaderResult {
  polls: number;
  checked: number;
  inconclusive: number;
  listErrors: number;
  violationCount: number;
  /** violations that involve a plain package file or module (not only another marker unit such as a .pth) */
  fileViolationCount: number;
  violations: Array<{ poll: number; dist: string; problems: string[] }>;
  /** NAME==VERSION pairs the reader verified at least once */
  seen: string[];
  seconds: number;
  bytecode: boolean;
}

export interface ReaderOptions {
  /** the prefix directory (the site dir below it is polled; a generations prefix is re-resolved every poll) */
  prefix: string;
  /** keep polling until at least this many polls... */
  polls: number;
  /** ...and this file exists (omit: stop after `polls`) */
  stopFile?: string;
  /** hard limit */
  seconds: number;
  /** write __pycache__/*.pyc into the prefix (default: python3 -B, no bytecode written) */
  writeBytecode?: boolean;
  /** stop at the first violation that involves a plain package file (for the test that expects some) */
  stopOnViolation?: boolean;
}

export interface Reader {
  child: ChildProcess;
  /** latest progress line */
  progress: { polls: number; violations: number; checked: number };
  done: Promise<ReaderResult>;
}

/** The reader script (it imports examples/sage-make/record_check.py, the one RECORD checker). */
export const READER_SCRIPT = path.join(REPO, 'test', '_helpers', 'prefix_reader.py');

/**
 * Start the python reader. It runs isolated (-I: no user site, no PYTHON* variables, no script
 * directory on sys.path) and without the site module (-S: no system dist-packages), so the only
 * distributions it can see are the prefix's.
 */
export async function startReader(opts: ReaderOptions): Promise<Reader> {
  const script = READER_SCRIPT;
  const site = path.join(opts.prefix, SITE);
  const args = [
    '-I',
    '-S',
    ...(opts.writeBytecode ? [] : ['-B']),
    script,
    '--site',
    site,
    '--polls',
    String(opts.polls),
    '--seconds',
    String(opts.seconds),
    '--progress-every',
    '50',
    ...(opts.stopFile ? ['--stop-file', opts.stopFile] : []),
    ...(opts.stopOnViolation ? ['--stop-on-violation', '1'] : []),
  ];
  const child = spawn('python3', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const reader: Reader = {
    child,
    progress: { polls: 0, violations: 0, checked: 0 },
    done: undefined as unknown as Promise<ReaderResult>,
  };
  let buf = '';
  let err = '';
  let result: ReaderResult | undefined;
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line.trim()) continue;
      const msg = JSON.parse(line) as {
        progress?: number;
        violations?: number;
        checked?: number;
        result?: ReaderResult;
      };
      if (msg.result) result = msg.result;
      else
        reader.progress = {
          polls: msg.progress ?? 0,
          violations: msg.violations ?? 0,
          checked: msg.checked ?? 0,
        };
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (c: string) => {
    err += c;
  });
  reader.done = new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0 && result) resolve(result);
      else reject(new Error(`python reader exited ${code ?? signal}:\n${err}\n${buf}`));
    });
  });
  return reader;
}

/**
 * Before anything recovers it, the crashed prefix as a Python client sees it: every distribution
 * whose .dist-info is visible must be complete (RECORD files present with their hashes, modules
 * importing at its version). Markers are removed first and placed last precisely so that this
 * holds at every instant, including the instant a writer dies. (python3 -B: nothing is written.)
 */
export async function assertReaderSeesNoHalfPackage(
  t: ExecutionContext,
  prefix: string,
  what: string,
): Promise<void> {
  const reader = await startReader({
    prefix,
    polls: 1,
    seconds: 60,
  });
  const r = await reader.done;
  t.is(r.polls, 1);
  t.is(r.listErrors, 0, `${what}: distributions() failed`);
  t.is(r.inconclusive, 0, `${what}: nothing moves in a crashed prefix`);
  t.is(r.checked, await visibleDistributions(prefix), `${what}: every distribution was checked`);
  t.is(
    r.violationCount,
    0,
    `${what}: a reader of the crashed prefix sees a marker whose package is incomplete:\n${JSON.stringify(r.violations, null, 2)}`,
  );
}

/** How many distributions (`*.dist-info`, `*.egg-info`) the prefix's site directory shows. */
async function visibleDistributions(prefix: string): Promise<number> {
  const site = path.join(prefix, SITE);
  const names = await fsp.readdir(site).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  // as importlib.metadata's lookup matches them: any case, files or directories
  const lower = names.map((n) => n.toLowerCase());
  return lower.filter((n) => n.endsWith('.dist-info') || n.endsWith('.egg-info')).length;
}

/** Import `module` from the prefix's site dir in a fresh python3 and return its VERSION. */
export async function importedVersion(
  prefix: string,
  module: string,
  opts: { writeBytecode?: boolean } = {},
): Promise<string> {
  const site = path.join(prefix, SITE);
  const code = `import sys; sys.path.insert(0, sys.argv[1]); import importlib; m = importlib.import_module(sys.argv[2]); print(m.VERSION)`;
  const { stdout } = await execFileP('python3', [
    '-I',
    '-S',
    ...(opts.writeBytecode ? [] : ['-B']),
    '-c',
    code,
    site,
    module,
  ]);
  return stdout.trim();
}

/** `python3 -m compileall` over the prefix's site dir: __pycache__/*.pyc for every module. */
export async function compileAll(prefix: string): Promise<void> {
  const site = path.join(prefix, SITE);
  await execFileP('python3', ['-I', '-m', 'compileall', '-q', site]);
}

/** The .pyc file python3 writes for `moduleFile` (a path to a .py file). */
export async function pycOf(moduleFile: string): Promise<string> {
  const { stdout } = await execFileP('python3', [
    '-I',
    '-S',
    '-c',
    'import importlib.util, sys; print(importlib.util.cache_from_source(sys.argv[1]))',
    moduleFile,
  ]);
  return stdout.trim();
}
