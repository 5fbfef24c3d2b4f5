// Bundle the CLI (dist/cli/main.js, over tsc's emit of cli/main.ts, plus a few chunks beside it in
// dist/cli/chunks/) so that starting `pstore` reads one small file instead of resolving ~100
// modules (SPEC.md §Start-up cost). The library (dist/lib/) stays as tsc emits it. Split, not one
// file: --version and --help read only the entry, and each command's chunk (with the store, tar or
// LevelDB it needs) is read on first use; one 700 KB file costs more to compile than node's start. Modules of lib/ and cli/ are declared free of side effects, so
// what a command does not use is dropped and what it reaches only through import() (each command,
// the store, tar, LevelDB) is initialised on first use, not at start-up. classic-level stays
// (with level, which wraps it) external: its native binding is found relative to its package.

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
  external: ['level', 'classic-level', 'memory-level'],
  // CommonJS dependencies bundled into ES modules still call require() for Node's built-ins.
  banner: {
    js: "import { createRequire as __pstoreRequire } from 'node:module';const require=__pstoreRequire(import.meta.url);",
  },
  plugins: [sideEffectFree],
  logLevel: 'warning',
  allowOverwrite: true,
});
rmSync(path.join(outdir, 'main.js.map'), { force: true }); // described tsc's emit, now replaced
