// --compile (SPEC.md §Wheels): checked-hash bytecode (PEP 552) for the modules in purelib and
// platlib, made by the target interpreter. The sources are written into a fresh temp directory at
// their prefix-relative paths and compiled there with `dfile` set to that relative path and no
// timestamp anywhere, so the bytes depend only on the source and the interpreter: every machine
// makes the same .pyc, and Python checks it against the source's hash, never an mtime. (Python
// replaces a loaded module's co_filename with the real source path, so the relative dfile shows
// nowhere.) Modules that do not compile (a py2-only test file) are left without bytecode, as
// compileall does.

import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
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
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'pstore-compile-'));
  try {
    for (const f of sources) {
      await fsp.mkdir(path.join(dir, path.dirname(f.path)), { recursive: true });
      await fsp.writeFile(path.join(dir, f.path), f.data);
    }
    const jobs = sources.map((f) => [f.path, pycPath(f.path, py.cacheTag)]);
    const done = await runCompiler(python, dir, JSON.stringify(jobs));
    return Promise.all(
      done.map(async (p) => ({
        path: p,
        data: await fsp.readFile(path.join(dir, p)),
        exec: false,
      })),
    );
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

async function runCompiler(python: string, cwd: string, jobs: string): Promise<string[]> {
  try {
    const child = execFileP(python, ['-I', '-c', COMPILE], { cwd, maxBuffer: 64 * 1024 * 1024 });
    child.child.stdin!.end(jobs);
    return JSON.parse((await child).stdout) as string[];
  } catch (err) {
    throw new PstoreError('EPSTORE_INVALID', `${python} failed to compile the wheel's modules`, {
      subject: python,
      cause: err,
    });
  }
}
