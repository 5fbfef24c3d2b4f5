// Bundle the CLI into CommonJS files that start without Node's ES module loader, from V8 code
// caches made at build time (SPEC.md §Start-up cost). The library (dist/lib/) stays as tsc emits it.
// - dist/cli/cli.cjs: every command (cli/main.ts), one file. Each module is initialised on first
//   use (esbuild wraps what is reached through import(), which is lowered to require()), and its
//   code cache (cli.cjs.cache, made by scripts/train-code-cache.cjs running real commands in one
//   process) holds the bytecode of what those commands ran, so a command compiles almost nothing.
//   Measured: a 20-file activation 0.76x, `pstore ls` 0.80x the time through ES module chunks.
// - dist/cli/light.cjs: `pstore status` alone (cli/light.ts), 48 KB, with a cache of its own: the
//   whole CLI and its cache cost more to read than status compiles. Its rare recovery of a dead
//   writer's journal is dist/cli/recover.cjs, required only then.
// - dist/cli/ask.cjs: `activate` and `deactivate` as a waiting writer runs them (cli/ask.ts),
//   36 KB with a cache of its own: a writer the prefix's writer serves loads nothing else; one
//   that is not served goes on in cli.cjs.
// - dist/cli/sync.cjs: `sync` as it starts (cli/sync-start.ts), with a cache of its own: a prefix
//   that holds the lockfile already is answered there; any other sync goes on in cli.cjs.
// - dist/cli/pstore.cjs (cli/bin.cjs, the `pstore` command) and code-cache.cjs (the loader), copied.
// - dist/cli/place-worker.js and dir-worker.js: each worker thread's module, one file each, beside
//   cli.cjs (started as new URL('./NAME.js', import.meta.url)).
// - dist/cli/bundles.json (the modules each bundle holds) and node-version (the Node that built
//   dist/, whose V8 alone takes the caches: scripts/build-if-stale.mjs), last.
// Modules of lib/ and cli/ are declared free of side effects, so what no command uses is dropped.
// LevelDB's JavaScript (level, classic-level, abstract-level and their helpers, ~30 CommonJS files)
// is bundled too: resolving and loading them one by one cost a writer three times their compile
// time. Only the native binding stays outside: it is found relative to classic-level's installed
// package.

import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import ts from 'typescript';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
/** The bundles loaded with a code cache (cli/code-cache.cjs). */
const CACHED = ['cli', 'light', 'ask', 'sync'];
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
 * Where each value lib/index.ts exports is defined: NAME → [absolute .ts file, name there]. From its
 * `export { A, B as C } from './x.js'`, `export { A }` of an imported name, `export * from` (followed)
 * and its own `export class|function|const`.
 */
function publicBindings(indexFile) {
  const source = ts.createSourceFile(
    indexFile,
    readFileSync(indexFile, 'utf8'),
    ts.ScriptTarget.Latest,
  );
  const bindings = new Map(declaredExports(source).map((name) => [name, [indexFile, name]]));
  const imported = new Map();
  const tsFile = (from, spec) => path.resolve(path.dirname(from), spec.replace(/\.js$/, '.ts'));
  for (const st of source.statements) {
    const from = st.moduleSpecifier && tsFile(indexFile, st.moduleSpecifier.text);
    if (ts.isImportDeclaration(st) && st.importClause?.namedBindings?.elements)
      for (const el of st.importClause.namedBindings.elements)
        imported.set(el.name.text, [from, (el.propertyName ?? el.name).text]);
    if (!ts.isExportDeclaration(st) || st.isTypeOnly) continue;
    if (!st.exportClause) {
      for (const [name, where] of publicBindings(from)) bindings.set(name, where);
      continue;
    }
    for (const el of st.exportClause.elements) {
      if (el.isTypeOnly) continue;
      const orig = (el.propertyName ?? el.name).text;
      bindings.set(el.name.text, from ? [from, orig] : imported.get(orig));
    }
  }
  return bindings;
}

/** The names a module declares with `export` (class, function, const...). */
function declaredExports(source) {
  return source.statements.flatMap((st) => {
    if (!st.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) return [];
    if (ts.isVariableStatement(st)) return st.declarationList.declarations.map((d) => d.name.text);
    return st.name && !ts.isInterfaceDeclaration(st) && !ts.isTypeAliasDeclaration(st)
      ? [st.name.text]
      : [];
  });
}

/**
 * esbuild splits by file: a command that imports one value from lib/index.ts would load every
 * module the public API re-exports (tar, picomatch, ssri, LevelDB). The CLI's imports of
 * lib/index.js are rewritten to the modules that define each value, so that a command's chunks
 * hold only what it uses. A name not found is a build error, never a silent fallback.
 */
const directImports = {
  name: 'pstore-direct-imports',
  setup(b) {
    const bindings = publicBindings(path.join(root, 'lib', 'index.ts'));
    const statement = /^(import|export) \{([^}]*)\} from '(?:\.\.\/)+lib\/index\.js';$/gm;
    b.onLoad({ filter: /[\\/]cli[\\/].*\.ts$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const rewrite = (_all, keyword, names) =>
        names
          .split(',')
          .map((n) => n.trim())
          .filter((n) => n !== '' && !n.startsWith('type '))
          .map((n) => {
            const [name, alias = name] = n.split(/\s+as\s+/);
            const found = bindings.get(name);
            if (!found) throw new Error(`${args.path}: ${name} is not a value of lib/index.ts`);
            let rel = path.relative(path.dirname(args.path), found[0]).replace(/\.ts$/, '.js');
            if (!rel.startsWith('.')) rel = `./${rel}`;
            return `${keyword} { ${found[1]} as ${alias} } from '${rel}';`;
          })
          .join('\n');
      return { contents: source.replace(statement, rewrite), loader: 'ts' };
    });
  },
};

const outdir = path.join(root, 'dist', 'cli');
/** What every build here shares: one file for Node 20 with what it imports. */
const NODE20 = { bundle: true, platform: 'node', target: 'node20', logLevel: 'warning' };

/**
 * A CommonJS bundle of `entry` (a .ts file under root) as dist/cli/`out`.cjs; `minify`: without
 * comments and line breaks (cli.cjs: 1,058 → 754 KB, and ASCII: reading it took 3.5 ms, 1.7 after).
 */
function bundle(entry, out, { plugins = [], minify = false } = {}) {
  return build({
    ...NODE20,
    entryPoints: [path.join(root, entry)],
    outfile: path.join(outdir, `${out}.cjs`),
    format: 'cjs',
    // import() in a CommonJS file starts Node's ES module loader: each becomes a require()
    supported: { 'dynamic-import': false },
    // import.meta.url (a worker's module, package.json) is the bundle's own file
    banner: {
      js: "const __pstoreImportMetaUrl = require('node:url').pathToFileURL(__filename).href;",
    },
    define: { 'import.meta.url': '__pstoreImportMetaUrl' },
    minifyWhitespace: minify,
    plugins: [...plugins, levelBinding, directImports, sideEffectFree],
    // classic-level: resolved at run time (levelBinding); undici: loaded only for an HTTPS remote
    // with deferred CA certificates (lib/transfer/oci/deferred-ca.ts), not read at every start
    external: ['classic-level/package.json', 'undici'],
    metafile: true,
    absWorkingDir: root, // the metafile's paths: lib/…, cli/…, node_modules/…
  });
}

/** light.cjs's recovery of a dead writer's journal is recover.cjs, not bundled into every status. */
const recoverApart = {
  name: 'pstore-recover-apart',
  setup(b) {
    b.onResolve({ filter: /recover-found\.js$/ }, () => ({
      path: './recover.cjs',
      external: true,
    }));
  },
};

const bundles = await Promise.all([
  bundle('cli/main.ts', 'cli', { minify: true }),
  bundle('cli/light.ts', 'light', { plugins: [recoverApart], minify: true }),
  bundle('cli/ask.ts', 'ask', { minify: true }),
  bundle('cli/sync-start.ts', 'sync', { minify: true }),
  bundle('lib/txn/recover-found.ts', 'recover'),
]);
// What each bundle holds (minified, it names none of its modules): test/cli/startup-loads.
writeFileSync(
  path.join(outdir, 'bundles.json'),
  `${JSON.stringify(
    Object.fromEntries(
      bundles.flatMap((b) =>
        Object.entries(b.metafile.outputs).map(([out, o]) => [
          path.basename(out),
          Object.keys(o.inputs).sort(),
        ]),
      ),
    ),
    null,
    1,
  )}\n`,
);
await Promise.all(
  ['ingest/dir-worker', 'txn/place-worker'].map((entry) =>
    build({
      ...NODE20,
      entryPoints: [path.join(root, 'lib', `${entry}.ts`)],
      outfile: path.join(outdir, `${path.basename(entry)}.js`),
      format: 'esm',
      plugins: [sideEffectFree],
    }),
  ),
);
copyFileSync(path.join(root, 'cli', 'code-cache.cjs'), path.join(outdir, 'code-cache.cjs'));
copyFileSync(path.join(root, 'cli', 'bin.cjs'), path.join(outdir, 'pstore.cjs'));
chmodSync(path.join(outdir, 'pstore.cjs'), 0o755);
// Each cached bundle ends with its id (code-cache.cjs: a cache is used only for the text it was
// made from).
const { withBundleId } = require('../dist/cli/code-cache.cjs');
for (const name of CACHED) {
  const file = path.join(outdir, `${name}.cjs`);
  writeFileSync(file, withBundleId(readFileSync(file, 'utf8')));
}
writeCodeCaches();
// The Node that built dist/ (scripts/build-if-stale.mjs: the caches are for its V8 alone).
writeFileSync(path.join(outdir, 'node-version'), `${process.version}\n`);

/**
 * The code caches, last: made by a training run in a process of its own, under V8's default flags
 * (no NODE_OPTIONS, no test hooks: the caches would be rejected by every process without them),
 * then checked in another such process. Any failure removes them and says so: the CLI works
 * without them, compiling its code at each start, and the install goes on.
 */
function writeCodeCaches() {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => k !== 'NODE_OPTIONS' && !k.startsWith('PSTORE_')),
  );
  const train = spawnSync(process.execPath, [path.join(root, 'scripts', 'train-code-cache.cjs')], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  const check = `const { loadBundle } = require(${JSON.stringify(path.join(outdir, 'code-cache.cjs'))});
    process.stdout.write(${JSON.stringify(CACHED)}.map((b) => loadBundle(b).cache).join(' '));`;
  const used =
    train.status === 0 && spawnSync(process.execPath, ['-e', check], { env, encoding: 'utf8' });
  if (used && used.stdout === CACHED.map(() => 'used').join(' ')) return;
  for (const name of CACHED) rmSync(path.join(outdir, `${name}.cjs.cache`), { force: true });
  const why =
    train.status !== 0
      ? `the training run ended with ${train.signal ?? `exit code ${train.status}`}: ${train.stderr}`
      : `a new process does not use them (${used.stdout}${used.stderr})`;
  console.warn(
    `pstore build: no code cache (the CLI works, compiling its code at each start): ${why}`,
  );
}
