// Issue 9, fixed costs: each command initialises only what it uses and loads only CommonJS files
// (SPEC.md §Start-up cost). The built CLI runs under a recorder of every module it loads: status
// must load no LevelDB, tar, zlib, picomatch, ssri, store context or transaction code, nor
// node:crypto, and two files; activate no zlib, from the CLI's bundle (read with its code cache,
// which a fresh process must accept); a served writer no LevelDB and no node:crypto.

import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import test, { type ExecutionContext } from 'ava';
import { CLI, REPO, childEnv, describe, spawnStoreCli, storeCli } from '../_helpers/cli.js';
import { tempDir } from '../_helpers/tmp.js';
import { buildTree } from '../_helpers/tree.js';
import { exists, until } from '../_helpers/txn-trees.js';

/**
 * What `status` loads: the command (pstore.cjs), the loader of bundles (code-cache.cjs), the
 * CommonJS bundle of status (light.cjs) and its code cache.
 */
const STATUS_FILES = [
  'dist/cli/code-cache.cjs',
  'dist/cli/light.cjs',
  'dist/cli/light.cjs.cache',
  'dist/cli/pstore.cjs',
];
/** What every other command loads: the same with the bundle of every command (cli.cjs). */
const CLI_FILES = [
  'dist/cli/cli.cjs',
  'dist/cli/cli.cjs.cache',
  'dist/cli/code-cache.cjs',
  'dist/cli/pstore.cjs',
];
/** What a writer another process serves loads: the bundle of the two writers (ask.cjs). */
const ASK_FILES = [
  'dist/cli/ask.cjs',
  'dist/cli/ask.cjs.cache',
  'dist/cli/code-cache.cjs',
  'dist/cli/pstore.cjs',
];
/** A writer that was not served: ask.cjs, then the CLI's bundle runs its transaction. */
const WRITER_FILES = [...new Set([...ASK_FILES, ...CLI_FILES])].sort();
const LOADER = path.join(REPO, 'dist', 'cli', 'code-cache.cjs');
/** What opening LevelDB adds: its native binding, found from classic-level's package. */
const LEVELDB = 'node_modules/classic-level/';

/** The files a run loaded, relative to the repository, sorted. */
const relative = (files: string[]) => files.map((f) => path.relative(REPO, f)).sort();

const HOOK = `export async function resolve(spec, ctx, next) {
  const r = await next(spec, ctx);
  process.stderr.write('LOADED ' + r.url + '\\n');
  return r;
}`;
// Node's own modules loaded by require inside Node (net's listen loads cluster) pass no hook:
// process.moduleLoadList names them, printed at exit.
// CommonJS files (the pstore command, the loader of bundles) and their require()s pass no resolve
// hook of the ES module loader: Module._load is wrapped to name them the same way; the bundles and
// their caches are read with readFileSync (code-cache.cjs), wrapped to name those under dist/cli/.
const REGISTER = `import { register, createRequire } from 'node:module';
register('./hook.mjs', import.meta.url);
const req = createRequire(import.meta.url);
const fs = req('node:fs');
const readFileSync = fs.readFileSync;
fs.readFileSync = function (file) {
  if (typeof file === 'string' && file.startsWith(${JSON.stringify(path.join(REPO, 'dist', 'cli'))}))
    process.stderr.write('LOADED file://' + file + '\\n');
  return readFileSync.apply(this, arguments);
};
const Module = req('node:module');
const load = Module._load;
Module._load = function (request, parent, isMain) {
  const out = load.apply(this, arguments);
  const found = Module._resolveFilename(request, parent, isMain);
  process.stderr.write('LOADED ' + (found.startsWith('/') ? 'file://' + found : 'node:' + found.replace(/^node:/, '')) + '\\n');
  return out;
};
process.on('exit', () => {
  for (const m of process.moduleLoadList)
    if (m.startsWith('NativeModule ')) process.stderr.write('INTERNAL ' + m.slice(13) + '\\n');
});`;

/**
 * The modules each bundle holds (dist/cli/bundles.json, from esbuild's metafile: a minified bundle
 * names none of them), by the bundle's file name.
 */
async function bundledModules(): Promise<Record<string, string[]>> {
  return JSON.parse(
    await fsp.readFile(path.join(REPO, 'dist', 'cli', 'bundles.json'), 'utf8'),
  ) as Record<string, string[]>;
}

/**
 * The modules a run initialised, from V8's coverage of the bundles (NODE_V8_COVERAGE): esbuild
 * wraps each module of a bundle in a function named after its path (`"lib/txn/run.ts"() {…}`), run
 * once on the module's first use; one that ran is a module the command initialised.
 */
async function initialisedModules(coverageDir: string): Promise<string[]> {
  const found = new Set<string>();
  for (const name of await fsp.readdir(coverageDir)) {
    const report = JSON.parse(await fsp.readFile(path.join(coverageDir, name), 'utf8')) as {
      result: { url: string; functions: { functionName: string; ranges: { count: number }[] }[] }[];
    };
    for (const script of report.result.filter((r) => /\/dist\/cli\/\w+\.cjs$/.test(r.url)))
      for (const fn of script.functions)
        if (/^(lib|cli|node_modules)\//.test(fn.functionName) && (fn.ranges[0]?.count ?? 0) > 0)
          found.add(fn.functionName);
  }
  return [...found];
}

/**
 * The builtins and files a pstore run loads, the modules of the bundles among those files, and the
 * modules it initialised.
 */
async function loads(
  dir: string,
  args: string[],
): Promise<{
  builtins: string[];
  internals: string[];
  files: string[];
  sources: string;
  initialised: string[];
  stdout: string;
}> {
  await fsp.writeFile(path.join(dir, 'hook.mjs'), HOOK);
  await fsp.writeFile(path.join(dir, 'register.mjs'), REGISTER);
  const coverage = await fsp.mkdtemp(path.join(dir, 'coverage-'));
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_V8_COVERAGE: coverage };
  delete env.NODE_OPTIONS;
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    ['--import', path.join(dir, 'register.mjs'), CLI, ...args],
    { env },
  );
  const urls = [...stderr.matchAll(/^LOADED (\S+)$/gm)].map((m) => m[1]!);
  const files = urls.filter((u) => u.startsWith('file:')).map((u) => new URL(u).pathname);
  const bundled = await bundledModules();
  return {
    builtins: urls.filter((u) => u.startsWith('node:')),
    internals: [...stderr.matchAll(/^INTERNAL (\S+)$/gm)].map((m) => m[1]!),
    files: [...new Set(files)],
    sources: files.flatMap((f) => bundled[path.basename(f)] ?? []).join('\n'),
    initialised: await initialisedModules(coverage),
    stdout,
  };
}

/** Whether a run initialised a module whose path starts with `prefix`. */
const initialised = (run: { initialised: string[] }, prefix: string) =>
  run.initialised.some((m) => m.startsWith(prefix));

test('status and activate load only what they use; --version no library at all', async (t) => {
  const dir = await tempDir(t, 'loads');
  const store = path.join(dir, 'store');
  const cli = storeCli(store);
  const pkg = await buildTree(path.join(dir, 'pkg'), { 'share/a': 'a\n', 'share/b': 'b\n' });
  t.is((await cli(['add', pkg, '--name', 'p', '--version', '1'])).code, 0);
  const common = ['--store', store, '--prefix', path.join(dir, 'prefix'), '-q'];

  const activate = await loads(dir, ['activate', 'p@1', ...common]);
  t.false(activate.builtins.includes('node:zlib'), 'activate loaded node:zlib');
  const files = relative(activate.files);
  t.deepEqual(
    files.filter((f) => !f.startsWith(LEVELDB)),
    WRITER_FILES,
    `activate loaded ${files.join(' ')}`,
  );
  t.true(
    files.some((f) => f.startsWith(LEVELDB)),
    'the check sees LevelDB opened (its binding)',
  );
  // ssri and minipass: only --verify, --overwrite and verify --prefix/hash initialise them
  for (const absent of [
    'node_modules/tar/',
    'node_modules/ssri/',
    'node_modules/minipass/',
    'lib/ingest/add.ts',
    'lib/transfer/oci/',
  ])
    t.false(initialised(activate, absent), `activate initialised ${absent}`);
  t.true(initialised(activate, 'node_modules/abstract-level/'), 'the check sees LevelDB');
  t.is((await cli(['status', '--prefix', path.join(dir, 'prefix')])).code, 0);

  const status = await loads(dir, ['status', ...common]);
  t.false(status.builtins.includes('node:zlib'), 'status loaded node:zlib');
  for (const absent of [
    'node_modules/abstract-level/',
    'node_modules/tar/',
    'node_modules/picomatch/',
    'node_modules/ssri/',
    'lib/txn/run.ts',
    'lib/txn/recover.ts',
  ])
    t.false(status.sources.includes(absent), `status loaded ${absent}`);
  t.true(status.sources.includes('lib/api/prefix-status.ts'), 'the check sees status');
  // status is a light command, bundled into one file of its own (scripts/bundle-cli.mjs): it loads
  // no store context, index nor recovery code, and so no node:crypto; and few module files.
  for (const absent of [
    'lib/store/context.ts',
    'lib/store/index-db.ts',
    'lib/txn/recover-found.ts',
  ])
    t.false(status.sources.includes(absent), `status loaded ${absent}`);
  for (const builtin of ['node:crypto', 'node:os', 'node:v8'])
    t.false(status.builtins.includes(builtin), `status loaded ${builtin}`);
  // No journal: the lock is not probed, so no socket is bound (a listen loads cluster).
  t.true(status.internals.includes('fs'), 'the check sees Node modules');
  for (const internal of ['cluster', 'child_process', 'crypto'])
    t.false(status.internals.includes(internal), `status loaded Node's ${internal}`);
  t.deepEqual(
    relative(status.files),
    STATUS_FILES,
    `status loaded ${status.files.length} module files: ${status.files.join(' ')}`,
  );

  // --version is answered by the command's file alone, before the CLI's bundle loads.
  const version = await loads(dir, ['--version']);
  t.deepEqual(
    version.files.map((f) => path.relative(REPO, f)).sort(),
    ['dist/cli/pstore.cjs', 'package.json'],
    '--version loaded more than the command and its version',
  );
  t.is(
    version.stdout,
    `${JSON.parse(await fsp.readFile(path.join(REPO, 'package.json'), 'utf8')).version}\n`,
  );
});

test("the code caches of the CLI's bundles are used by a new process", async (t) => {
  // V8 takes a code cache only under the V8 version and flags it was made with: the build's
  // training run must leave the flags as the `pstore` command compiles the bundle under.
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // as a user's shell: V8 flags there would make V8 reject the caches
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      '-e',
      `const { loadBundle } = require(${JSON.stringify(LOADER)});
    process.stdout.write(['cli', 'light', 'ask'].map((b) => loadBundle(b).cache).join(' '))`,
    ],
    { env },
  );
  t.is(stdout, 'used used used');
});

test("a command line naming status: status runs from light.cjs alone, global options first too, as the CLI's bundle runs it; another command goes on to the bundle", async (t) => {
  const dir = await tempDir(t, 'light');
  const store = path.join(dir, 'store');
  const pkg = await buildTree(path.join(dir, 'pkg'), { 'share/a': 'a\n' });
  const cli = storeCli(store);
  t.is((await cli(['add', pkg, '--name', 'p', '--version', '1', '-q'])).code, 0);
  const prefix = path.join(dir, 'prefix');
  t.is((await cli(['activate', 'p@1', '--prefix', prefix, '-q'])).code, 0);
  const args = ['--store', store, 'status', '--prefix', prefix, '--json'];
  const light = await loads(dir, args);
  t.deepEqual(relative(light.files), STATUS_FILES, light.files.join(' '));
  // the bundle of every command, started as bin.cjs starts it for a command line not `status`
  const full = path.join(dir, 'full.cjs');
  await fsp.writeFile(full, `require(${JSON.stringify(LOADER)}).loadBundle('cli').exports.main();`);
  const viaBundle = await promisify(execFile)(process.execPath, [full, ...args]);
  t.is(light.stdout, viaBundle.stdout, 'the same answer through the bundle');
  t.is(JSON.parse(light.stdout).generation, 1);
  // `status` as an operand: the command is info, which the bundle runs (light.cjs declines)
  const info = await cli(['info', 'status']);
  t.is(info.code, 6, describe(info));
  t.regex(info.stderr, /EPSTORE_NOT_FOUND/);
});

const activateQ = (store: string, prefix: string) => [
  'activate',
  'q@1',
  '--store',
  store,
  '--prefix',
  prefix,
  '--json',
];

/** A store in `dir` with one-file packages p@1 and q@1 added, and where the prefix goes. */
async function storeWithPQ(
  t: ExecutionContext,
  dir: string,
): Promise<{ store: string; prefix: string }> {
  const store = path.join(dir, 'store');
  const cli = storeCli(store);
  for (const name of ['p', 'q']) {
    const pkg = await buildTree(path.join(dir, name), { [`share/${name}`]: `${name}\n` });
    t.is((await cli(['add', pkg, '--name', name, '--version', '1'])).code, 0);
  }
  return { store, prefix: path.join(dir, 'prefix') };
}

/**
 * Run `waiterArgs` (a writer's command line, --store and --json added) under the load recorder
 * while the holder of the prefix's lock (activating p@1) waits for its request: the waiter's loads.
 */
async function servedLoads(
  t: ExecutionContext,
  dir: string,
  store: string,
  prefix: string,
  waiterArgs: string[],
): Promise<Awaited<ReturnType<typeof loads>>> {
  return served(t, dir, store, prefix, () =>
    loads(dir, [...waiterArgs, '--store', store, '--json']),
  );
}

/** `waiter()` run while the holder of the prefix's lock (activating p@1) waits for its request. */
async function served<T>(
  t: ExecutionContext,
  dir: string,
  store: string,
  prefix: string,
  waiter: () => Promise<T>,
): Promise<T> {
  // The holder stays inside its transaction until the waiter's token file says it has asked.
  const release = path.join(dir, 'release');
  const holder = spawnStoreCli(store, ['activate', 'p@1', '--prefix', prefix], {
    PSTORE_TEST_PAUSEPOINT: 'txn:after-journal:60000',
    PSTORE_TEST_PAUSE_RELEASE: release,
  });
  const state = path.join(prefix, '.pstore');
  await until('the holder to write its journal', () => exists(path.join(state, 'journal.json')));
  const asked = until('the waiter to ask', async () =>
    (await fsp.readdir(state)).some((n) => n.startsWith('.pstore-tmp-group-')),
  ).then(() => fsp.writeFile(release, ''));
  const result = await waiter();
  await asked;
  t.is((await holder.done).code, 0);
  return result;
}

/**
 * What a served waiter must not load: LevelDB (its binding, its code), node:crypto, the store, the
 * schemas, the transaction; no file but the command, the loader and the waiting writer's bundle
 * (ask.cjs, whose modules bundles.json names: they are initialised at its load, unnamed).
 */
function assertServedLoads(t: ExecutionContext, waiter: Awaited<ReturnType<typeof loads>>): void {
  t.false(waiter.builtins.includes('node:crypto'), 'the served waiter loaded node:crypto');
  for (const absent of [
    'node_modules/abstract-level/',
    'node_modules/valibot/',
    'node_modules/picomatch/',
    'node_modules/ssri/',
    'lib/api/store.ts',
    'lib/store/',
    'lib/txn/run.ts',
    'lib/txn/group.ts',
    'lib/prefix/state.ts',
  ])
    t.false(waiter.sources.includes(absent), `the served waiter loaded ${absent}`);
  t.true(waiter.sources.includes('lib/txn/group-ask.ts'), 'the check sees the waiter');
  t.deepEqual(
    relative(waiter.files),
    ASK_FILES,
    `the served waiter loaded ${waiter.files.join(' ')}`,
  );
}

test('a writer served by the holder of the prefix opens no store nor LevelDB (no node:crypto, no binding)', async (t) => {
  const dir = await tempDir(t, 'served');
  const { store, prefix } = await storeWithPQ(t, dir);
  const waiter = await servedLoads(t, dir, store, prefix, ['activate', 'q@1', '--prefix', prefix]);
  t.like(JSON.parse(waiter.stdout), { grouped: true, generation: 2 });
  assertServedLoads(t, waiter);
});

test('a deactivate served by the holder of the prefix loads as little as a served activate', async (t) => {
  const dir = await tempDir(t, 'served-off');
  const { store, prefix } = await storeWithPQ(t, dir);
  t.is((await storeCli(store)(['activate', 'q@1', '--prefix', prefix, '-q'])).code, 0);
  const waiter = await servedLoads(t, dir, store, prefix, ['deactivate', 'q', '--prefix', prefix]);
  t.like(JSON.parse(waiter.stdout), { grouped: true, generation: 3, deactivated: [{ name: 'q' }] });
  assertServedLoads(t, waiter);
});

/**
 * Two writers started together on a new prefix, the first paused right after it arrived (before
 * the library is loaded: no prefix, no state directory, no lock file yet) until the second waits
 * on its arrival. Returns both results and what the second loaded.
 */
async function arrivingTogether(t: ExecutionContext, attempt: number) {
  const dir = await fsp.realpath(await tempDir(t, `arrival-${attempt}`));
  const { store, prefix } = await storeWithPQ(t, dir);
  const release = path.join(dir, 'release');
  const first = spawnStoreCli(store, ['activate', 'p@1', '--prefix', prefix, '--json'], {
    PSTORE_TEST_PAUSEPOINT: 'ask:first-arrival:60000',
    PSTORE_TEST_PAUSE_RELEASE: release,
  });
  const { arrivalName } = (await import(
    path.join(REPO, 'dist', 'lib', 'fs', 'lock.js')
  )) as typeof import('../../lib/fs/lock.js');
  const key = arrivalName(path.join(prefix, '.pstore', 'lock')).slice(1);
  const arrivalSockets = async () =>
    (await fsp.readFile('/proc/net/unix', 'utf8')).split('\n').filter((l) => l.includes(`@${key}@`))
      .length;
  await until('the first writer to arrive', async () => (await arrivalSockets()) >= 1);
  // Once the second one waits on the arrival (a second socket of that name), let the first go on.
  const waited = until('the second writer to wait on the arrival', async () => {
    if ((await arrivalSockets()) < 2) return false;
    t.false(await exists(prefix), 'the second writer waited before the prefix existed');
    await fsp.writeFile(release, '');
    return true;
  });
  const second = await loads(dir, activateQ(store, prefix));
  await waited;
  return { r1: await first.done, second };
}

test('writers started together on a new prefix: a waiter that arrives before any lock file exists is served without loading the library', async (t) => {
  // The holder waits a bounded time (LATE_REQUEST_MS, 1 s) for the request of a writer that waited
  // on its arrival; on a loaded machine the waiter may ask later and then runs its own
  // transaction, correctly but not served. Up to three attempts for one that is served.
  let run = await arrivingTogether(t, 1);
  for (let attempt = 2; attempt <= 3 && !('grouped' in JSON.parse(run.second.stdout)); attempt++) {
    t.log(`attempt ${attempt - 1}: the waiter asked too late and ran its own transaction`);
    run = await arrivingTogether(t, attempt);
  }
  const { r1, second } = run;
  t.is(r1.code, 0, r1.stderr);
  t.like(JSON.parse(r1.stdout), { generation: 1 });
  t.false('grouped' in JSON.parse(r1.stdout), 'the first writer ran its own transaction');
  t.like(JSON.parse(second.stdout), { grouped: true, generation: 2 });
  assertServedLoads(t, second);
});

/** A command line run with only a preload that reports the process's threads as it exits. */
async function threadsOf(
  dir: string,
  args: string[],
): Promise<{ threads: number; stdout: string }> {
  const preload = path.join(dir, 'threads.cjs');
  await fsp.writeFile(
    preload,
    `process.on('exit', () => process.stderr.write('THREADS ' + /^Threads:\\s+(\\d+)$/m.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'))[1] + '\\n'));`,
  );
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    ['-r', preload, CLI, ...args],
    { env: childEnv() },
  );
  return { threads: Number(/^THREADS (\d+)$/m.exec(stderr)?.[1]), stdout };
}

test('a served writer starts no thread pool: it ends with the threads of `pstore --version`', async (t) => {
  // Its few lookups are synchronous (lib/fs/exists.ts, statOrUndefined): libuv's thread pool,
  // which the CLI sizes to 16 threads, would add at least four.
  const dir = await tempDir(t, 'served-threads');
  const { store, prefix } = await storeWithPQ(t, dir);
  const waiter = await served(t, dir, store, prefix, () =>
    threadsOf(dir, ['activate', 'q@1', '--prefix', prefix, '--store', store, '--json']),
  );
  t.like(JSON.parse(waiter.stdout), { grouped: true, generation: 2 });
  const bare = await threadsOf(dir, ['--version']);
  t.true(bare.threads > 0, 'the check reads the thread count');
  t.true(waiter.threads <= bare.threads, `${waiter.threads} threads, --version ${bare.threads}`);
});

test('status starts no thread pool: its state files are read synchronously', async (t) => {
  const dir = await tempDir(t, 'status-threads');
  const { store, prefix } = await storeWithPQ(t, dir);
  t.is((await storeCli(store)(['activate', 'p@1', '--prefix', prefix, '-q'])).code, 0);
  const status = await threadsOf(dir, ['status', '--prefix', prefix, '--json']);
  t.like(JSON.parse(status.stdout), { generation: 1 });
  const bare = await threadsOf(dir, ['--version']);
  t.true(status.threads <= bare.threads, `${status.threads} threads, --version ${bare.threads}`);
});

test('a sync with nothing to do runs from sync.cjs alone: no LevelDB, no CLI bundle, no node:crypto, no thread pool', async (t) => {
  const dir = await tempDir(t, 'sync-noop');
  const { store, prefix } = await storeWithPQ(t, dir);
  const cli = storeCli(store);
  t.is((await cli(['activate', 'p@1', '--prefix', prefix, '-q'])).code, 0);
  const lock = path.join(dir, 'pstore.lock');
  t.is((await cli(['lock', '--prefix', prefix, '-o', lock])).code, 0);
  const args = ['sync', lock, '--prefix', prefix, '--store', store, '--json'];
  const run = await loads(dir, args);
  t.like(JSON.parse(run.stdout), { noop: true, generation: 1 });
  const names = run.files.map((f) => path.basename(f));
  t.true(names.includes('sync.cjs'), names.join(' '));
  for (const absent of ['cli.cjs', 'ask.cjs', 'classic_level.node'])
    t.false(names.includes(absent), `the no-op sync read ${absent}: ${names.join(' ')}`);
  t.false(run.sources.includes('lib/txn/run.ts'), 'it holds no transaction code');
  // Its one hash (the registration's name) is computed in JavaScript (lib/store/prefixes.ts).
  t.false(run.builtins.includes('node:crypto'), 'the no-op sync loaded node:crypto');
  const threads = await threadsOf(dir, args);
  const bare = await threadsOf(dir, ['--version']);
  t.true(threads.threads <= bare.threads, `${threads.threads} threads, --version ${bare.threads}`);
});

/**
 * The public Node built-ins a run loads after its heap limit's V8 flag is set (none before): each
 * compiles from source then (lib/core/heap-growth.ts). Node's own internal modules are left out:
 * a command cannot ask for them by name.
 */
async function builtinsAfterHeapFlag(dir: string, args: string[]): Promise<string[]> {
  const preload = path.join(dir, 'after-flag.cjs');
  await fsp.writeFile(
    preload,
    `const v8 = require('node:v8'); const set = v8.setFlagsFromString; let at;
v8.setFlagsFromString = function (flags) { at ??= process.moduleLoadList.length; return set.call(this, flags); };
process.on('exit', () => process.stderr.write('AFTER ' + JSON.stringify(at === undefined ? null : process.moduleLoadList.slice(at)) + '\\n'));`,
  );
  const { stderr } = await promisify(execFile)(process.execPath, ['-r', preload, CLI, ...args], {
    env: childEnv(),
  });
  const after = JSON.parse(/^AFTER (.*)$/m.exec(stderr)![1]!) as string[] | null;
  if (after === null) throw new Error(`pstore ${args.join(' ')} set no heap flag`);
  return after
    .filter((m) => m.startsWith('NativeModule ') && !m.startsWith('NativeModule internal/'))
    .map((m) => m.slice('NativeModule '.length));
}

test('add, activate, sync and deactivate load their Node built-ins before the heap flag', async (t) => {
  const dir = await tempDir(t, 'after-flag');
  const store = path.join(dir, 'store');
  const prefix = path.join(dir, 'prefix');
  const tree = await buildTree(path.join(dir, 'p'), { 'share/p': 'p\n' });
  const s = ['--store', store, '-q'];
  const lock = path.join(dir, 'pstore.lock');
  const runs = [
    ['add', tree, '--name', 'p', '--version', '1', ...s],
    ['activate', 'p@1', '--prefix', prefix, ...s],
    ['lock', '--prefix', prefix, '-o', lock, ...s],
    ['sync', lock, '--prefix', path.join(dir, 'other'), ...s],
    ['deactivate', 'p', '--prefix', prefix, ...s],
  ];
  for (const args of runs)
    t.deepEqual(await builtinsAfterHeapFlag(dir, args), [], `pstore ${args[0]}`);
});
