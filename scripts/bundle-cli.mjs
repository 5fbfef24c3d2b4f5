// Bundle the CLI (dist/cli/main.js, over tsc's emit of cli/main.ts, plus a few chunks beside it in
// dist/cli/chunks/) so that starting `pstore` reads one small file instead of resolving ~100
// modules (SPEC.md §Start-up cost). The library (dist/lib/) stays as tsc emits it. Split, not one
// file: --version and --help read only the entry, and each command's chunk (with the store, tar or
// LevelDB it needs) is read on first use; one 700 KB file costs more to compile than node's start.
// Modules of lib/ and cli/ are declared free of side effects, so what a command does not use is
// dropped and what it reaches only through import() (each command, the store, tar, LevelDB) is
// initialised on first use, not at start-up. LevelDB's JavaScript (level, classic-level,
// abstract-level and their helpers, ~30 CommonJS files) is bundled too: resolving and loading them
// one by one cost a writer three times their compile time. Only the native binding stays outside:
// it is found relative to classic-level's installed package. A light command (status) and the
// writers a holder may serve (activate, deactivate) are built apart, each into one file of its own
// (ALONE, below).

import { build } from 'esbuild';
import { chmodSync, copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import ts from 'typescript';
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

/**
 * The modules a file alone may take from the CLI's build (source → the CLI's entry name), where
 * one copy must serve both: lib/core/errors.ts (main.ts recognises PstoreError by class),
 * lib/fs/lock.ts (a process's locks and arrival names are its module's state: the arrival a
 * writer's shortcut binds is let go by the lock its own transaction takes, SPEC.md §Group commit,
 * Arrivals) and lib/txn/recover-found.ts (a reader's recovery, imported on the rare run that finds
 * a dead writer's journal; bundled in, it would make every status compile the recovery code). The
 * CLI's build emits each as an entry of its own (shared-*.js). A module without state may exist
 * twice in a process (in a file alone and in the CLI's chunks); one with state, reached by both a
 * file alone and what it loads from the CLI's build, must be listed here and shared.
 */
const ERRORS = path.join(root, 'lib', 'core', 'errors.ts');
const LOCK = path.join(root, 'lib', 'fs', 'lock.ts');
const RECOVER = path.join(root, 'lib', 'txn', 'recover-found.ts');
const SHARED = { [ERRORS]: 'shared-errors', [LOCK]: 'shared-lock', [RECOVER]: 'shared-recover' };
/**
 * The commands bundled alone, each into one file with the SHARED modules it takes: built with the
 * CLI, each would load a dozen chunks or more (esbuild splits every module two commands share into
 * a chunk per set of commands using it). A light command (status, SPEC.md §Dependencies and cost
 * model) keeps its own copy of the lock (it probes one, rarely; the shared entry and its chunk
 * would be two more files to load). The writers a holder may serve (activate, deactivate: SPEC.md
 * §Group commit, the waiter's shortcut) must load no more than that when served; their own
 * transaction reaches the library only through the store handle cli/run-cli.ts opens (open-store.js,
 * of the CLI's build). The CLI's registry imports each file alone: placeholders made relative paths
 * once the files are placed (`placeholders`).
 */
const command = (name) => path.join(root, 'cli', 'commands', `${name}.ts`);
const ALONE = {
  status: { from: command('status'), shares: [ERRORS, RECOVER] },
  activate: { from: command('activate'), shares: [ERRORS, LOCK] },
  deactivate: { from: command('deactivate'), shares: [ERRORS, LOCK] },
};
const PLACEHOLDER = 'pstore-placeholder:';

/** `cli/registry.ts`'s import of a command bundled alone is left to its own file. */
const aloneExternal = {
  name: 'pstore-alone-external',
  setup(b) {
    b.onResolve({ filter: /^\.\/commands\/[\w-]+\.js$/ }, (args) => {
      const name = path.basename(args.path, '.js');
      if (!(name in ALONE) || !args.importer.endsWith(`${path.sep}registry.ts`)) return undefined;
      return { path: `${PLACEHOLDER}alone/${name}.js`, external: true };
    });
  },
};

/** In a build alone, the SHARED modules it `shares` are the CLI build's copies. */
const sharedModules = (shares) => ({
  name: 'pstore-shared-modules',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\/.*\.js$/ }, (args) => {
      const from = path.resolve(args.resolveDir, args.path.replace(/\.js$/, '.ts'));
      return shares.includes(from)
        ? { path: `${PLACEHOLDER}${SHARED[from]}.js`, external: true }
        : undefined;
    });
  },
});

const outdir = path.join(root, 'dist', 'cli');

/** The options both builds share. */
const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // CommonJS dependencies bundled into ES modules still call require() for Node's built-ins.
  banner: {
    js: "import { createRequire as __pstoreRequire } from 'node:module';const require=__pstoreRequire(import.meta.url);",
  },
  logLevel: 'warning',
  allowOverwrite: true,
  metafile: true, // its output paths are relative to absWorkingDir
  absWorkingDir: root,
};
const plugins = [levelNamedExports, levelBinding, directImports, sideEffectFree];

const cli = await build({
  ...common,
  entryPoints: [
    { in: path.join(root, 'cli', 'main.ts'), out: 'main' },
    ...Object.entries(SHARED).map(([from, name]) => ({ in: from, out: name })),
  ],
  outdir,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  plugins: [aloneExternal, ...plugins],
});
// One file per command alone: what it imports with import() is bundled in too, so such a command
// must reach nothing heavy but through SHARED (or through the store handle).
const alone = await Promise.all(
  Object.entries(ALONE).map(([name, { from, shares }]) =>
    build({
      ...common,
      entryPoints: [{ in: from, out: name }],
      outdir: path.join(outdir, 'alone'),
      splitting: false,
      plugins: [sharedModules(shares), ...plugins],
    }),
  ),
);
// `pstore status` as one CommonJS file (cli/light.ts): the `pstore` command requires it without
// starting Node's ES module loader (main.js, for a command line that is not `status`, stays apart). Its recovery of a dead writer's journal (RECOVER, rare) is the
// CLI build's shared-recover.js, imported as an ES module then (a PstoreError it throws is one of
// another copy of errors.ts: isPstoreError knows it by name and code).
await build({
  ...common,
  format: 'cjs',
  metafile: false,
  banner: {
    js: "const __pstoreImportMetaUrl = require('node:url').pathToFileURL(__filename).href;",
  },
  define: { 'import.meta.url': '__pstoreImportMetaUrl' },
  entryPoints: [{ in: path.join(root, 'cli', 'light.ts'), out: 'light' }],
  outdir,
  outExtension: { '.js': '.cjs' },
  plugins: [
    {
      name: 'pstore-light-recover',
      setup(b) {
        b.onResolve({ filter: /recover-found\.js$/ }, () => ({
          path: './shared-recover.js',
          external: true,
        }));
        // a command line that is not `status` after all goes on to the CLI's build
        b.onResolve({ filter: /^\.\/main\.js$/ }, () => ({ path: './main.js', external: true }));
      },
    },
    directImports,
    sideEffectFree,
  ],
});
rmSync(path.join(outdir, 'main.js.map'), { force: true }); // described tsc's emit, now replaced
// The `pstore` command: a CommonJS file that answers --version alone and imports main.js otherwise.
copyFileSync(path.join(root, 'cli', 'bin.cjs'), path.join(outdir, 'pstore.cjs'));
chmodSync(path.join(outdir, 'pstore.cjs'), 0o755);
placeholders([cli, ...alone].flatMap((b) => Object.keys(b.metafile.outputs)));

/** Each placeholder import, made the path from its file to the file it names under dist/cli/. */
function placeholders(outputs) {
  const named = new RegExp(`(["'])${PLACEHOLDER}([\\w./-]+)\\1`, 'g');
  let found = 0;
  for (const rel of outputs.filter((o) => o.endsWith('.js'))) {
    const file = path.resolve(root, rel);
    const text = readFileSync(file, 'utf8');
    const out = text.replace(named, (_all, quote, target) => {
      found++;
      let to = path.relative(path.dirname(file), path.join(outdir, target));
      if (!to.startsWith('.')) to = `./${to}`;
      return `${quote}${to}${quote}`;
    });
    if (out !== text) writeFileSync(file, out);
  }
  if (found === 0) throw new Error('bundle-cli: no placeholder import was resolved');
  const left = outputs.filter((o) =>
    readFileSync(path.resolve(root, o), 'utf8').includes(PLACEHOLDER),
  );
  if (left.length) throw new Error(`bundle-cli: placeholders left in ${left.join(', ')}`);
}

// The worker threads' modules (lib/ingest/dir-worker.ts, lib/txn/place-worker.ts), started by a
// chunk as new URL('./NAME.js', import.meta.url): each one self-contained file beside the chunks,
// so that a worker's start reads one small file and shares no chunk with the command that starts it.
for (const entry of [
  ['ingest', 'dir-worker'],
  ['txn', 'place-worker'],
])
  await build({
    entryPoints: [path.join(root, 'lib', entry[0], `${entry[1]}.ts`)],
    outfile: path.join(outdir, 'chunks', `${entry[1]}.js`),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    plugins: [sideEffectFree],
    logLevel: 'warning',
    allowOverwrite: true,
  });
