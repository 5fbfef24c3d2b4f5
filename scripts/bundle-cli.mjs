// Bundle the CLI (dist/cli/main.js, over tsc's emit of cli/main.ts, plus a few chunks beside it in
// dist/cli/chunks/) so that starting `pstore` reads one small file instead of resolving ~100
// modules (SPEC.md §Start-up cost). The library (dist/lib/) stays as tsc emits it. Split, not one
// file: --version and --help read only the entry, and each command's chunk (with the store, tar or
// LevelDB it needs) is read on first use; one 700 KB file costs more to compile than node's start. Modules of lib/ and cli/ are declared free of side effects, so
// what a command does not use is dropped and what it reaches only through import() (each command,
// the store, tar, LevelDB) is initialised on first use, not at start-up. LevelDB's JavaScript
// (level, classic-level, abstract-level and their helpers, ~30 CommonJS files) is bundled too:
// resolving and loading them one by one cost a writer three times their compile time. Only the
// native binding stays outside: it is found relative to classic-level's installed package.

import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ours = new RegExp(`^${root}/(lib|cli)/`);

/** esbuild keeps every module that might have side effects; pstore's own have none at load. */
const sideEffectFree = {
  name: 'pstore-side-effect-free',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, () => undefined);
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData?.skip) return undefined;
      const r = await b.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: { skip: true },
      });
      return ours.test(r.path) || r.path.includes('/node_modules/')
        ? { ...r, sideEffects: false }
        : r;
    });
  },
};

/**
 * classic-level's binding.js hands its own directory to node-gyp-build; bundled, that directory
 * would be the chunk's. Ask it of the installed package instead (where npm put classic-level).
 */
const levelBinding = {
  name: 'pstore-level-binding',
  setup(b) {
    b.onLoad({ filter: /[\\/]classic-level[\\/]binding\.js$/ }, () => ({
      contents:
        "module.exports = require('node-gyp-build')(require('node:path').dirname(require.resolve('classic-level/package.json')));",
      loader: 'js',
    }));
  },
};

/**
 * pstore loads LevelDB with `import('level')` and `import('memory-level')` (CommonJS packages). As
 * the root of a chunk, esbuild gives such a package a default export only; this wrapper re-exports
 * by name the one class pstore takes from each, as Node's own CommonJS interop does.
 */
const LEVEL_CLASSES = { level: 'Level', 'memory-level': 'MemoryLevel' };
const levelNamedExports = {
  name: 'pstore-level-named-exports',
  setup(b) {
    const filter = new RegExp(`^(${Object.keys(LEVEL_CLASSES).join('|')})$`);
    b.onResolve({ filter }, (args) =>
      ours.test(args.importer) ? { path: args.path, namespace: 'pstore-level' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'pstore-level' }, (args) => ({
      contents: `export { ${LEVEL_CLASSES[args.path]} } from '${args.path}';`,
      resolveDir: root,
      loader: 'js',
    }));
  },
};

const outdir = path.join(root, 'dist', 'cli');
await build({
  entryPoints: [path.join(root, 'cli', 'main.ts')],
  outdir,
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  splitting: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // CommonJS dependencies bundled into ES modules still call require() for Node's built-ins.
  banner: {
    js: "import { createRequire as __pstoreRequire } from 'node:module';const require=__pstoreRequire(import.meta.url);",
  },
  plugins: [levelNamedExports, levelBinding, sideEffectFree],
  logLevel: 'warning',
  allowOverwrite: true,
});
rmSync(path.join(outdir, 'main.js.map'), { force: true }); // described tsc's emit, now replaced
