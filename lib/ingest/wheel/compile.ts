// --compile (SPEC.md §Wheels): checked-hash bytecode (PEP 552) for the modules in purelib and
// platlib, made by the target interpreter that described the scheme (interpreter.ts), so an add
// starts Python once. The sources go to its stdin; it compiles each exactly as
// `py_compile.compile(src, dfile=REL, optimize=0, invalidation_mode=CHECKED_HASH)` would (the
// same compile() call, source hash and header), with `dfile` the prefix-relative path and no
// timestamp anywhere: every machine makes the same .pyc, and Python checks it against the
// source's hash, never an mtime. (Python replaces a loaded module's co_filename with the real
// source path, so the relative dfile shows nowhere.) Nothing touches the disk.
// Compiling is CPU work: the process forks one worker per further idle core (no second
// interpreter start), each compiling every n-th module; a module's bytes do not depend on the split. A module
// that does not compile (a py2-only test file) gets no bytecode, as compileall does.

import os from 'node:os';
import path from 'node:path';
import { PstoreError } from '../../core/errors.js';
import type { Interpreter, PythonSession } from './interpreter.js';
import type { PlacedFile } from './record.js';

/**
 * Runs after the interpreter's description. stdin: a JSON line `[[relpath, size], …]`, then the
 * sources' bytes back to back (EOF instead: nothing to do). stdout: per source, in order, a
 * 4-byte big-endian length and the .pyc bytes (length 0xffffffff: it does not compile).
 * sys.argv[4]: how many processes compile.
 */
export const COMPILE_SERVER = String.raw`
import importlib.util, json, os, struct, sys
from importlib._bootstrap_external import _code_to_hash_pyc
def pyc(rel, source):
    try:
        code = compile(source, rel, 'exec', dont_inherit=True, optimize=0)
    except Exception:
        return None
    return _code_to_hash_pyc(code, importlib.util.source_hash(source), True)
def framed(results):
    return b''.join(b'\xff\xff\xff\xff' if r is None else struct.pack('>I', len(r)) + r for r in results)
def share(jobs, sources, k, n):
    return framed([pyc(jobs[i][0], sources[i]) for i in range(k, len(jobs), n)])
def unframe(data):
    out, at = [], 0
    while at < len(data):
        size, = struct.unpack_from('>I', data, at)
        at += 4
        if size == 0xffffffff:
            out.append(None)
        else:
            out.append(data[at:at + size])
            at += size
    return out
header = sys.stdin.buffer.readline()
if header:
    jobs = json.loads(header)
    sources = [sys.stdin.buffer.read(size) for _, size in jobs]
    n = max(1, min(int(sys.argv[4]), len(jobs)))
    readers = []
    for k in range(1, n):
        r, w = os.pipe()
        if os.fork() == 0:
            status = 1
            try:
                os.close(r)
                with os.fdopen(w, 'wb') as out:
                    out.write(share(jobs, sources, k, n))
                status = 0
            finally:
                os._exit(status)
        os.close(w)
        readers.append(r)
    shares = [unframe(share(jobs, sources, 0, n))]
    for r in readers:
        with os.fdopen(r, 'rb') as f:
            shares.append(unframe(f.read()))
    for _ in readers:
        if os.wait()[1] != 0:
            sys.exit(3)
    sys.stdout.buffer.write(framed(shares[i % n][i // n] for i in range(len(jobs))))
`;

/** How many processes compile at most (more only contend). */
const MAX_COMPILERS = 4;

/**
 * How many processes compile: one per idle core, judged as `make -l` does by the 1-minute load
 * average, at least one and at most MAX_COMPILERS. On busy cores a second compiler shortens
 * nothing and costs its fork, the split and its share of contended caches.
 */
export function compilerCount(cores: number, load: number): number {
  return Math.max(1, Math.min(MAX_COMPILERS, cores - Math.floor(load)));
}

/** The arguments COMPILE_SERVER takes after the scheme. */
export function compilerArgs(): string[] {
  return [String(compilerCount(os.availableParallelism(), os.loadavg()[0]!))];
}

/** `a/b/mod.py` → `a/b/__pycache__/mod.<cache tag>.pyc` (what importlib looks for at -O0). */
export function pycPath(source: string, cacheTag: string): string {
  const dir = path.posix.dirname(source);
  const stem = path.posix.basename(source, '.py');
  return path.posix.join(dir, '__pycache__', `${stem}.${cacheTag}.pyc`);
}

/** Bytecode for every `.py` of `files` under the library directories, by `session`'s process. */
export async function compileModules(
  session: PythonSession,
  py: Interpreter,
  files: readonly PlacedFile[],
  libDirs: readonly string[],
): Promise<PlacedFile[]> {
  const inLib = (p: string): boolean => libDirs.some((d) => d === '' || p.startsWith(`${d}/`));
  const sources = files.filter((f) => f.path.endsWith('.py') && inLib(f.path));
  const stdin = session.stdin!;
  if (sources.length > 0) {
    stdin.write(`${JSON.stringify(sources.map((f) => [f.path, f.data.length]))}\n`);
    for (const f of sources) stdin.write(f.data);
  }
  session.close();
  let pycs: Array<Buffer | undefined>;
  try {
    pycs = unframe(await session.rest, sources.length);
  } catch (err) {
    throw new PstoreError(
      'EPSTORE_INVALID',
      `${session.python} failed to compile the wheel's modules`,
      { subject: session.python, cause: err },
    );
  }
  return pycs.flatMap((pyc, i) =>
    pyc === undefined
      ? []
      : [{ path: pycPath(sources[i]!.path, py.cacheTag), data: pyc, exec: false }],
  );
}

/** COMPILE_SERVER's answer: one .pyc (or undefined: it did not compile) per source. */
function unframe(reply: Buffer, count: number): Array<Buffer | undefined> {
  const out: Array<Buffer | undefined> = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    const size = reply.readUInt32BE(at);
    at += 4;
    if (size === 0xffffffff) out.push(undefined);
    else out.push(reply.subarray(at, (at += size)));
  }
  if (at !== reply.length)
    throw new Error(`the compiler's answer has ${reply.length - at} bytes too many`);
  return out;
}
