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
import { tempDir } from './tmp.js';

const execFileP = promisify(execFile);

export const READER_PY = String.raw`
import base64, csv, hashlib, importlib, importlib.metadata, io, json, os, sys, time

args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
SITE = args['--site']
STOP = args.get('--stop-file')
MIN_POLLS = int(args.get('--polls', '0'))
MAX_SECONDS = float(args.get('--seconds', '60'))
EVERY = int(args.get('--progress-every', '100'))
STOP_ON_VIOLATION = args.get('--stop-on-violation') == '1'

polls = 0
checked = 0
inconclusive = 0
violation_count = 0
file_violation_count = 0
violations = []
seen = set()
errors = 0
sys.path.insert(0, SITE)


def identity(p):
    try:
        st = os.stat(p)
    except OSError:
        return None
    return (st.st_ino, st.st_ctime_ns)


def drop_modules(top):
    for k in list(sys.modules):
        if k == top or k.startswith(top + '.'):
            del sys.modules[k]


def fresh_imports(modnames):
    # Forget every module of these top-level packages and every cached directory listing, then
    # import them all again from the files as they are now (parents are shared within one pass).
    for top in {m.split('.')[0] for m in modnames}:
        drop_modules(top)
    importlib.invalidate_caches()
    out = []
    for mod in sorted(modnames):
        try:
            out.append((mod, importlib.import_module(mod), None))
        except Exception as e:
            out.append((mod, None, e))
    return out


def module_name(rel):
    # rel is relative to the site directory; 'pkg/sub/__init__.py' -> 'pkg.sub'
    parts = rel[:-3].split('/')
    if parts[-1] == '__init__':
        parts = parts[:-1]
    return '.'.join(parts)


def about_marker_only(problem):
    # A problem with another marker unit of the package (its .pth), not with its plain files.
    return problem.split(' ')[0] in ('missing', 'hash', 'size') and problem.endswith(('.pth', '.egg-link'))


def check_dist(dist, site):
    global checked, inconclusive, violation_count, file_violation_count
    where = str(dist._path)
    before = identity(where)
    if before is None:
        inconclusive += 1
        return
    problems = []
    name = version = None
    try:
        name = dist.metadata['Name']
        version = dist.version
        if not name or not version:
            problems.append('METADATA has no Name or Version')
        record = dist.read_text('RECORD')
        if record is None:
            problems.append('RECORD is missing')
            record = ''
        modules = []
        for row in csv.reader(io.StringIO(record)):
            if not row:
                continue
            rel, digest, size = (row + ['', ''])[:3]
            full = os.path.normpath(os.path.join(site, rel))
            if not digest:
                if not os.path.lexists(full):
                    problems.append('missing ' + rel)
                continue
            try:
                with open(full, 'rb') as f:
                    data = f.read()
            except FileNotFoundError:
                problems.append('missing ' + rel)
                continue
            algo, _, want = digest.partition('=')
            got = base64.urlsafe_b64encode(hashlib.new(algo, data).digest()).rstrip(b'=').decode()
            if got != want:
                problems.append('hash mismatch ' + rel)
            elif size and int(size) != len(data):
                problems.append('size mismatch ' + rel)
            if rel.endswith('.py') and not rel.startswith('..') and '/gen/' not in rel and not rel.endswith('.pth'):
                modules.append(module_name(rel))
        for mod, m, e in fresh_imports(modules):
            if e is not None:
                problems.append('import %s: %s: %s' % (mod, type(e).__name__, e))
                continue
            f = getattr(m, '__file__', None) or ''
            if not f.startswith(site + os.sep):
                problems.append('%s imported from %s, not from %s' % (mod, f, site))
            if hasattr(m, 'VERSION') and m.VERSION != version:
                problems.append('%s.VERSION is %r, the distribution says %r' % (mod, m.VERSION, version))
            if hasattr(m, 'version') and callable(m.version) and m.version() != version:
                problems.append('%s.version() is %r, the distribution says %r' % (mod, m.version(), version))
    except Exception as e:
        problems.append('%s: %s' % (type(e).__name__, e))
    after = identity(where)
    if after != before:
        inconclusive += 1
        return
    checked += 1
    seen.add('%s==%s' % (name, version))
    if problems:
        violation_count += 1
        if not all(about_marker_only(p) for p in problems):
            file_violation_count += 1
        if len(violations) < 25:
            violations.append({'poll': polls, 'dist': os.path.basename(where), 'problems': problems[:10]})


start = time.monotonic()
while True:
    if time.monotonic() - start > MAX_SECONDS:
        break
    if polls >= MIN_POLLS and (STOP is None or os.path.exists(STOP)):
        break
    if STOP_ON_VIOLATION and file_violation_count:
        break
    polls += 1
    site = os.path.realpath(SITE)
    sys.path[0] = site
    importlib.invalidate_caches()
    try:
        dists = list(importlib.metadata.distributions(path=[site]))
    except Exception:
        errors += 1
        dists = []
    for d in dists:
        check_dist(d, site)
    if polls % EVERY == 0:
        print(json.dumps({'progress': polls, 'violations': violation_count, 'checked': checked}), flush=True)

print(json.dumps({'result': {
    'polls': polls, 'checked': checked, 'inconclusive': inconclusive, 'listErrors': errors,
    'violationCount': violation_count, 'fileViolationCount': file_violation_count, 'violations': violations, 'seen': sorted(seen),
    'seconds': round(time.monotonic() - start, 3), 'bytecode': not sys.dont_write_bytecode,
}}), flush=True)
`;

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
  /** the script file is written here */
  work: string;
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

/** Write the reader script to `work` and return its path. */
export async function writeReaderScript(work: string): Promise<string> {
  const file = path.join(work, 'pstore_reader.py');
  await fsp.writeFile(file, READER_PY);
  return file;
}

/**
 * Start the python reader. It runs isolated (-I: no user site, no PYTHON* variables, no script
 * directory on sys.path) and without the site module (-S: no system dist-packages), so the only
 * distributions it can see are the prefix's.
 */
export async function startReader(opts: ReaderOptions): Promise<Reader> {
  const script = await writeReaderScript(opts.work);
  const site = path.join(opts.prefix, 'usr/lib/python3/dist-packages');
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
    work: await tempDir(t, 'pyreader'),
    polls: 1,
    seconds: 60,
  });
  const r = await reader.done;
  t.is(r.polls, 1);
  t.is(
    r.violationCount,
    0,
    `${what}: a reader of the crashed prefix sees a marker whose package is incomplete:\n${JSON.stringify(r.violations, null, 2)}`,
  );
}

/** Import `module` from the prefix's site dir in a fresh python3 and return its VERSION. */
export async function importedVersion(
  prefix: string,
  module: string,
  opts: { writeBytecode?: boolean } = {},
): Promise<string> {
  const site = path.join(prefix, 'usr/lib/python3/dist-packages');
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
  const site = path.join(prefix, 'usr/lib/python3/dist-packages');
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
