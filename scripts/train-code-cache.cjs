// The build's training run (scripts/bundle-cli.mjs, last step): load the CLI's bundles
// (dist/cli/cli.cjs, every command, and light.cjs, status) as the `pstore` command does
// (dist/cli/code-cache.cjs, without a cache), run the everyday commands on a small package in a
// temporary store and prefixes, in this one process, and write the code V8 compiled for each
// bundle as its cache (dist/cli/NAME.cjs.cache). V8 compiles a function on its first call, so the
// cache holds what these commands ran; what they did not run is compiled when first called, as
// without a cache. Exits non-zero if anything failed: the build (scripts/bundle-cli.mjs) then
// removes the caches and says so, and the install goes on without them.
'use strict';

const { mkdirSync, mkdtempSync, rmSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { setFlagsFromString } = require('node:v8');
const { loadBundle, writeCache } = require('../dist/cli/code-cache.cjs');

/** A package of 20 files in `dir`, as the bench's small package (SPEC.md §Start-up cost). */
function smallTree(dir) {
  const share = path.join(dir, 'usr', 'share', 'pkg');
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
    ['cli', 'activate', 'pkg@1', ...inplace],
    ['light', 'status', ...inplace],
    ['cli', 'deactivate', 'pkg', ...inplace],
    ['cli', 'activate', 'pkg@1', '--layout', 'generations', ...generations],
    ['cli', 'deactivate', 'pkg', ...generations],
    ['cli', 'rollback', ...generations],
  ];
}

const BUNDLES = ['cli', 'light'];

async function train() {
  // compiled first, as `pstore` compiles them: before any command sets a V8 flag
  const loaded = Object.fromEntries(
    BUNDLES.map((name) => [name, loadBundle(name, { useCache: false })]),
  );
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pstore-train-'));
  try {
    for (const [name, ...argv] of commandLines(dir)) {
      const { exports } = loaded[name];
      const code = await exports.runCli(argv, exports.TABLE);
      if (code !== 0) throw new Error(`training run: pstore ${argv.join(' ')} exited ${code}`);
    }
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
