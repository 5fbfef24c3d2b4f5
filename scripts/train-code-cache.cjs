// The build's training run (scripts/bundle-cli.mjs, last step): load dist/cli/cli.cjs as the
// `pstore` command does (dist/cli/code-cache.cjs, without a cache), run the everyday commands on a
// small package in a temporary store and prefixes, in this one process, and write the code V8
// compiled for them as dist/cli/cli.cjs.cache. V8 compiles a function on its first call, so the
// cache holds what these commands ran; what they did not run is compiled when first called, as
// without a cache. A command that fails here fails the build (the training is a smoke test too).
'use strict';

const { mkdirSync, mkdtempSync, rmSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { setFlagsFromString } = require('node:v8');
const { loadCli, writeCache } = require('../dist/cli/code-cache.cjs');

/** A package of 20 files in `dir`, as the bench's small package (SPEC.md §Start-up cost). */
function smallTree(dir) {
  const share = path.join(dir, 'usr', 'share', 'pkg');
  mkdirSync(share, { recursive: true });
  for (let i = 1; i <= 20; i++) writeFileSync(path.join(share, `f${i}`), `${i}\n`);
  return dir;
}

/** The command lines run, in order, each to exit 0. */
function commandLines(dir) {
  const store = ['--store', path.join(dir, 'store')];
  const inplace = ['--prefix', path.join(dir, 'inplace'), ...store];
  const generations = ['--prefix', path.join(dir, 'generations'), ...store];
  return [
    ['add', smallTree(path.join(dir, 'tree')), '--name', 'pkg', '--version', '1', ...store],
    ['ls', ...store],
    ['info', 'pkg@1', ...store],
    ['activate', 'pkg@1', ...inplace],
    ['deactivate', 'pkg', ...inplace],
    ['activate', 'pkg@1', '--layout', 'generations', ...generations],
    ['deactivate', 'pkg', ...generations],
    ['rollback', ...generations],
  ];
}

async function train() {
  const { cli, script } = loadCli({ useCache: false });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pstore-train-'));
  try {
    for (const argv of commandLines(dir)) {
      const code = await cli.runCli(argv, cli.TABLE);
      if (code !== 0) throw new Error(`training run: pstore ${argv.join(' ')} exited ${code}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // The commands set V8's heap limit (lib/core/heap-growth.ts); a cache is accepted only under the
  // flags it was made with, and `pstore` compiles cli.cjs under V8's defaults.
  setFlagsFromString('--heap-growing-percent=0');
  writeCache(script);
}

train().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
