// The build's training run (scripts/bundle-cli.mjs, last step): load the CLI's bundles
// (dist/cli/cli.cjs, every command; light.cjs, status; ask.cjs, a waiting writer; sync.cjs, a sync
// with nothing to do) as the `pstore`
// command does (dist/cli/code-cache.cjs, without a cache), run the everyday commands on a small
// package in a temporary store and prefixes, in this one process (and one writer served by another
// pstore process, as sixteen started at once mostly are), and write the code V8 compiled for each
// bundle as its cache (dist/cli/NAME.cjs.cache). V8 compiles a function on its first call, so the
// cache holds what these commands ran; what they did not run is compiled when first called, as
// without a cache. Exits non-zero if anything failed: the build (scripts/bundle-cli.mjs) then
// removes the caches and says so, and the install goes on without them.
'use strict';

const { spawn } = require('node:child_process');
const {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { setFlagsFromString } = require('node:v8');
const { loadBundle, writeCache } = require('../dist/cli/code-cache.cjs');

/** A package of 20 files in `dir`, as the bench's small package (SPEC.md §Start-up cost). */
function smallTree(dir, name = 'pkg') {
  const share = path.join(dir, 'usr', 'share', name);
  mkdirSync(share, { recursive: true });
  for (let i = 1; i <= 20; i++) writeFileSync(path.join(share, `f${i}`), `${i}\n`);
  return dir;
}

/** The command lines run, in order, each to exit 0, and the bundle that runs each. */
function commandLines(dir) {
  const store = ['--store', path.join(dir, 'store')];
  const inplace = ['--prefix', path.join(dir, 'inplace'), ...store];
  const generations = ['--prefix', path.join(dir, 'generations'), ...store];
  return [
    ['cli', 'add', smallTree(path.join(dir, 'tree')), '--name', 'pkg', '--version', '1', ...store],
    ['cli', 'ls', ...store],
    ['cli', 'info', 'pkg@1', ...store],
    // not served (nobody else writes): ask.cjs hands each on to cli.cjs, as `pstore` does
    ['ask', 'activate', 'pkg@1', ...inplace],
    ['light', 'status', ...inplace],
    ['cli', 'lock', '-o', path.join(dir, 'pstore.lock'), ...inplace],
    // the prefix holds it: answered in sync.cjs without the library
    ['sync', 'sync', path.join(dir, 'pstore.lock'), ...inplace],
    ['ask', 'deactivate', 'pkg', ...inplace],
    ['ask', 'activate', 'pkg@1', '--layout', 'generations', ...generations],
    ['ask', 'deactivate', 'pkg', ...generations],
    ['cli', 'rollback', ...generations],
  ];
}

const BUNDLES = ['cli', 'light', 'ask', 'sync'];

/** Each bundle's command table; ask.cjs's hands a line it was not served on to cli.cjs's. */
const tableOf = (loaded, name) =>
  name === 'ask'
    ? loaded.ask.exports.askTable(() => loaded.cli.exports)
    : name === 'sync'
      ? loaded.sync.exports.syncTable(handedOver)
      : loaded[name].exports.TABLE;

/** sync.cjs's only line is one it answers: handed over, the cache would hold the wrong path. */
const handedOver = () => {
  throw new Error('training run: the no-op sync was handed over to cli.cjs');
};

/** Poll `ready` every 10 ms, for 30 s at most: then the training run fails, naming `what`. */
async function until(ready, what) {
  for (let i = 0; i < 3000; i++) {
    if (ready()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`training run: timed out waiting for ${what}`);
}

/** `run()`'s exit code and what it wrote on stdout (the bundles write through process.stdout). */
async function captured(run) {
  const write = process.stdout.write;
  let out = '';
  process.stdout.write = (chunk, ...rest) => {
    out += chunk;
    const done = rest.find((r) => typeof r === 'function');
    if (done) done();
    return true;
  };
  try {
    return { code: await run(), out };
  } finally {
    process.stdout.write = write;
  }
}

/**
 * `activate` run from ask.cjs while another pstore process (dist/cli/pstore.cjs) holds the prefix,
 * paused after its journal until this one has asked: the holder serves it. A test hook of the
 * holder's process alone; this process runs as any `pstore` would.
 */
async function servedRun(loaded, dir) {
  const store = ['--store', path.join(dir, 'store')];
  const prefix = path.join(dir, 'served');
  const state = path.join(prefix, '.pstore');
  const release = path.join(dir, 'release');
  const argv = ['activate', 'two@1', '--prefix', prefix, '-q', ...store];
  const holder = spawn(
    process.execPath,
    [path.join(__dirname, '..', 'dist', 'cli', 'pstore.cjs'), ...argv],
    {
      env: {
        ...process.env,
        PSTORE_TEST_PAUSEPOINT: 'txn:after-journal:30000',
        PSTORE_TEST_PAUSE_RELEASE: release,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let holderErr = '';
  holder.stderr.on('data', (c) => (holderErr += c));
  const held = new Promise((resolve) => holder.once('exit', resolve));
  try {
    await until(() => existsSync(path.join(state, 'journal.json')), 'the holder to journal');
    const served = captured(() =>
      loaded.ask.exports.runCli(
        ['activate', 'pkg@1', '--prefix', prefix, '--json', ...store],
        tableOf(loaded, 'ask'),
      ),
    );
    await until(
      () => existsSync(state) && readdirSync(state).some((n) => n.startsWith('.pstore-tmp-group-')),
      'the waiter to ask',
    );
    writeFileSync(release, '');
    const [{ code, out }, holderCode] = [await served, await held];
    if (code !== 0 || holderCode !== 0 || JSON.parse(out).grouped !== true)
      throw new Error(`training run: a served activate exited ${code} (${out.trim()})`);
  } catch (err) {
    holder.kill('SIGKILL');
    throw new Error(`${err.message}; its holder: ${holderErr.trim()}`, { cause: err });
  }
}

async function train() {
  // compiled first, as `pstore` compiles them: before any command sets a V8 flag
  const loaded = Object.fromEntries(
    BUNDLES.map((name) => [name, loadBundle(name, { useCache: false })]),
  );
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pstore-train-'));
  try {
    for (const [name, ...argv] of commandLines(dir)) {
      const code = await loaded[name].exports.runCli(argv, tableOf(loaded, name));
      if (code !== 0) throw new Error(`training run: pstore ${argv.join(' ')} exited ${code}`);
    }
    const two = smallTree(path.join(dir, 'two'), 'two');
    const add = ['add', two, '--name', 'two', '--version', '1', '--store', path.join(dir, 'store')];
    if ((await loaded.cli.exports.runCli(add, loaded.cli.exports.TABLE)) !== 0)
      throw new Error('training run: pstore add two exited non-zero');
    await servedRun(loaded, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // The commands set V8's heap limit (lib/core/heap-growth.ts); a cache is accepted only under the
  // flags it was made with, and `pstore` compiles its bundles under V8's defaults.
  setFlagsFromString('--heap-growing-percent=0');
  for (const name of BUNDLES)
    if (!writeCache(name, loaded[name])) throw new Error(`dist/cli/${name}.cjs has no bundle id`);
}

// Success only once every cache is written: a command that stalls (the event loop empties before
// it ends) leaves this process with exit code 1 as well. The build says why and removes the caches.
process.exitCode = 1;
train().then(
  () => {
    process.exitCode = 0;
  },
  (err) => console.error(err),
);
