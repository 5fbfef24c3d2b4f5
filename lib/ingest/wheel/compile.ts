// --compile (SPEC.md §Wheels): checked-hash bytecode (PEP 552) for the modules in purelib and
// platlib, made by the target interpreter. The sources are written into a fresh temp directory at
// their prefix-relative paths and compiled there with `dfile` set to that relative path and no
// timestamp anywhere, so the bytes depend only on the source and the interpreter: every machine
// makes the same .pyc, and Python checks it against the source's hash, never an mtime. (Python
// replaces a loaded module's co_filename with the real source path, so the relative dfile shows
// nowhere.) Modules that do not compile (a py2-only test file) are left without bytecode, as
// compileall does.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PstoreError } from '../../core/errors.js';
import type { Interpreter } from './interpreter.js';
import type { PlacedFile } from './record.js';

const execFileP = promisify(execFile);

const COMPILE = String.raw`
import json, os, py_compile, sys
done = []
for rel, pyc in json.load(sys.stdin):
    try:
        py_compile.compile(rel, cfile=pyc, dfile=rel, doraise=True, optimize=0,
                           invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
        done.append(pyc)
    except (py_compile.PyCompileError, SyntaxError, ValueError):
        pass
print(json.dumps(done))
`;

/** `a/b/mod.py` → `a/b/__pycache__/mod.<cache tag>.pyc` (what importlib looks for at -O0). */
export function pycPath(source: string, cacheTag: string): string {
  const dir = path.posix.dirname(source);
  const stem = path.posix.basename(source, '.py');
  return path.posix.join(dir, '__pycache__', `${stem}.${cacheTag}.pyc`);
}

/** Bytecode for every `.py` of `files` under the library directories. */
export async function compileModules(
  python: string,
  py: Interpreter,
  files: readonly PlacedFile[],
  libDirs: readonly string[],
): Promise<PlacedFile[]> {
  const inLib = (p: string): boolean => libDirs.some((d) => d === '' || p.startsWith(`${d}/`));
  const sources = files.filter((f) => f.path.endsWith('.py') && inLib(f.path));
  if (sources.length === 0) return [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pstore-compile-'));
  try {
    stageSources(dir, sources);
    const jobs = sources.map((f) => [f.path, pycPath(f.path, py.cacheTag)]);
    // Compiling is CPU work in the interpreter: one process per core (at most COMPILERS) shares it.
    const shares = splitJobs(jobs, Math.min(COMPILERS, os.availableParallelism()));
    const done = await Promise.all(shares.map((share) => runCompiler(python, dir, share)));
    return done
      .flat()
      .map((p) => ({ path: p, data: fs.readFileSync(path.join(dir, p)), exec: false }));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** More processes than this start more interpreters than they save compile time. */
const COMPILERS = 4;

/** Write the sources at their prefix-relative paths (synchronously: they are small and many). */
function stageSources(dir: string, sources: readonly PlacedFile[]): void {
  const made = new Set<string>();
  for (const f of sources) {
    const parent = path.join(dir, path.dirname(f.path));
    if (!made.has(parent)) fs.mkdirSync(parent, { recursive: true });
    made.add(parent);
    fs.writeFileSync(path.join(dir, f.path), f.data);
  }
}

/** `jobs` dealt round-robin into at most `n` non-empty shares (the output does not depend on n). */
function splitJobs<T>(jobs: readonly T[], n: number): T[][] {
  const shares: T[][] = Array.from({ length: Math.max(1, Math.min(n, jobs.length)) }, () => []);
  jobs.forEach((job, i) => shares[i % shares.length]!.push(job));
  return shares;
}

async function runCompiler(python: string, cwd: string, jobs: unknown[]): Promise<string[]> {
  try {
    const child = execFileP(python, ['-I', '-c', COMPILE], { cwd, maxBuffer: 64 * 1024 * 1024 });
    child.child.stdin!.end(JSON.stringify(jobs));
    return JSON.parse((await child).stdout) as string[];
  } catch (err) {
    throw new PstoreError('EPSTORE_INVALID', `${python} failed to compile the wheel's modules`, {
      subject: python,
      cause: err,
    });
  }
}
