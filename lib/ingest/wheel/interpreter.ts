// The target interpreter, started once per add (nothing is cached across processes: an upgraded
// Python must never be described by a stale answer). Its first output line is JSON: the scheme's
// paths with every base set to `/` (so they are prefix-relative, as `python -m installer --prefix /`
// computes them), and what wheel tags and bytecode need. With `--compile` the same process then
// stays to compile the modules (compile.ts), so an add starts Python exactly once.

import { spawn, type ChildProcess } from 'node:child_process';
import { PstoreError, errnoCode } from '../../core/errors.js';

export interface Interpreter {
  /** sys.executable: the path launchers' and scripts' shebangs name */
  executable: string;
  scheme: string;
  /** purelib, platlib, scripts, data, include, relative to the prefix root ('' is the root) */
  paths: Record<'purelib' | 'platlib' | 'scripts' | 'data' | 'include', string>;
  version: [number, number];
  /** sys.implementation.name, e.g. cpython */
  implementation: string;
  abiflags: string;
  /** sysconfig.get_platform(), e.g. linux-x86_64 */
  platform: string;
  /** glibc version (e.g. 2.36), or null on other C libraries */
  glibc: string | null;
  /** sys.implementation.cache_tag, e.g. cpython-311 (the .pyc name's middle part) */
  cacheTag: string;
}

/** argv[2]: the scheme ('' = default). Prints the answer as one JSON line. */
const PROBE = String.raw`
import json, os, sys, sysconfig
names = sysconfig.get_scheme_names()
default = getattr(sysconfig, 'get_default_scheme', None) or sysconfig._get_default_scheme
scheme = sys.argv[2] or default()
if scheme not in names:
    print(json.dumps({'unknownScheme': scheme, 'schemes': sorted(names)}))
    sys.exit(0)
base = {'base': '/', 'platbase': '/', 'installed_base': '/', 'installed_platbase': '/'}
paths = sysconfig.get_paths(scheme=scheme, vars=base)
try:
    glibc = os.confstr('CS_GNU_LIBC_VERSION').split()[1]
except (AttributeError, ValueError, OSError, IndexError):
    glibc = None
print(json.dumps({
    'executable': sys.executable, 'scheme': scheme,
    'paths': {k: paths[k] for k in ('purelib', 'platlib', 'scripts', 'data', 'include')},
    'version': list(sys.version_info[:2]), 'implementation': sys.implementation.name,
    'abiflags': getattr(sys, 'abiflags', ''), 'platform': sysconfig.get_platform(),
    'glibc': glibc, 'cacheTag': sys.implementation.cache_tag,
}), flush=True)
`;

/**
 * argv: PROBE, scheme[, WORKER, its arguments…]. A WORKER (code that reads stdin and writes
 * stdout) runs in a process forked before the probe runs, so that it works in a bare
 * interpreter's state: the bytes marshal writes depend on which strings the process has interned
 * elsewhere (the probe's json.dumps of a list interns "[", which changes 24 of pip's 491 .pyc).
 * The process exits with the worker's status.
 */
const BOOT = String.raw`
import os, sys
if len(sys.argv) > 3:
    worker = os.fork()
    if worker == 0:
        status = 1
        try:
            exec(sys.argv[3])
            status = 0
        finally:
            sys.stdout.flush()
            os._exit(status)
exec(sys.argv[1])
if len(sys.argv) > 3:
    status = os.waitpid(worker, 0)[1]
    sys.exit(status >> 8 if status & 0x7f == 0 else 1)
`;

/** A running interpreter: its description, then (when started with a worker) its later output. */
export interface PythonSession {
  python: string;
  described: Promise<Interpreter>;
  /** every byte the process wrote after its description, once it exits with status 0 */
  rest: Promise<Buffer>;
  /** the process's stdin (open only when started with a worker) */
  stdin: NodeJS.WritableStream | null;
  /** end stdin: a process left waiting for work exits */
  close(): void;
}

/**
 * Start `python` (a command on PATH or a path) describing `scheme` (default: its own default);
 * `worker` (Python code) reads stdin and writes after the description, `args` in sys.argv[4:].
 */
export function startInterpreter(
  python: string,
  scheme: string | undefined,
  worker?: { code: string; args: string[] },
): PythonSession {
  const argv = ['-I', '-c', BOOT, PROBE, scheme ?? ''];
  if (worker) argv.push(worker.code, ...worker.args);
  const child = spawn(python, argv, { stdio: [worker ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  child.stdin?.on('error', () => undefined); // EPIPE from a process that died: its exit says why
  const output = collect(python, child);
  const described = output.head
    .then((line) => describe(python, line))
    .catch((err: unknown) => {
      throw notPython(python, err);
    });
  const rest = output.all.then((all) => all.subarray(all.indexOf(0x0a) + 1));
  described.catch(() => undefined); // awaited by the caller, after its own checks
  rest.catch(() => undefined);
  return { python, described, rest, stdin: child.stdin, close: () => child.stdin?.end() };
}

/** The first line of stdout (as soon as it is there), and all of stdout once the exit is 0. */
function collect(
  python: string,
  child: ChildProcess,
): { head: Promise<string>; all: Promise<Buffer> } {
  const chunks: Buffer[] = [];
  const stderr: Buffer[] = [];
  let gotHead: (line: string) => void = () => undefined;
  let failHead: (err: unknown) => void = () => undefined;
  const head = new Promise<string>((resolve, reject) => ([gotHead, failHead] = [resolve, reject]));
  let headSeen = false;
  child.stdout!.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    if (headSeen || !chunk.includes(0x0a)) return;
    headSeen = true;
    gotHead(Buffer.concat(chunks).toString('utf8').split('\n', 1)[0]!);
  });
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
  const all = new Promise<Buffer>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve(Buffer.concat(chunks));
      else
        reject(
          new Error(
            `${python} exited ${signal ?? code}: ${Buffer.concat(stderr).toString().trim()}`,
          ),
        );
    });
  });
  all.then(() => failHead(new Error(`${python} printed no answer`)), failHead);
  return { head, all };
}

function describe(python: string, line: string): Interpreter {
  const answer = JSON.parse(line) as Interpreter & { unknownScheme?: string; schemes?: string[] };
  if (answer.unknownScheme !== undefined)
    throw new PstoreError(
      'EPSTORE_USAGE',
      `--scheme ${answer.unknownScheme} is not a scheme of ${python} (${answer.schemes!.join(', ')})`,
      { subject: '--scheme' },
    );
  for (const key of Object.keys(answer.paths) as Array<keyof Interpreter['paths']>)
    answer.paths[key] = relativeToRoot(answer.paths[key]);
  return answer;
}

/** The error for a failed start (`ENOENT`: not found) or an answer that is not a Python 3's. */
export function notPython(python: string, err: unknown): PstoreError {
  if (err instanceof PstoreError) return err;
  if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'EACCES')
    return new PstoreError('EPSTORE_NOT_FOUND', `the interpreter ${python} is not found`, {
      subject: python,
      hint: 'give one with --python PATH',
      cause: err,
    });
  return new PstoreError('EPSTORE_INVALID', `${python} does not answer as a Python 3 interpreter`, {
    subject: python,
    cause: err,
  });
}

/** `//lib/python3.11/site-packages` → `lib/python3.11/site-packages`; `/` → `` */
function relativeToRoot(p: string): string {
  return p
    .split('/')
    .filter((part) => part !== '' && part !== '.')
    .join('/');
}
