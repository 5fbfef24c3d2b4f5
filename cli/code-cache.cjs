// Loads one of pstore's CLI bundles (dist/cli/NAME.cjs, CommonJS: scripts/bundle-cli.mjs) with the
// V8 code cache the build made for it (NAME.cjs.cache, scripts/train-code-cache.cjs), so that a
// command starts from compiled code instead of compiling its modules (SPEC.md §Start-up cost).
// Node 20 caches only its own built-ins and has no cache for ES modules or for required files: a
// vm.Script with cachedData is the one way. Copied to dist/cli/ by the build; required by the
// `pstore` command (bin.cjs) and by the build's training run, which must compile the same text.
'use strict';

const { readFileSync, renameSync, statSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const { Script } = require('node:vm');

/** The bundle `name`'s file and its cache's. */
function filesOf(name) {
  const file = path.join(__dirname, `${name}.cjs`);
  return { file, cacheFile: `${file}.cache` };
}

/**
 * The cache, if it was written after the bundle. V8 checks a cache's V8 version, V8 flags and the
 * length of the text, not the text itself: a bundle changed after its training run (by hand, or by
 * a build without one) must not run the code compiled from the old text.
 */
function readCache({ file, cacheFile }) {
  try {
    if (statSync(cacheFile).mtimeMs >= statSync(file).mtimeMs) return readFileSync(cacheFile);
  } catch {
    // no cache: compile from source
  }
  return undefined;
}

/**
 * Compile and run the bundle `name` as Node would run a CommonJS file (same wrapper arguments),
 * from its cache when V8 accepts it, and return its exports. V8 rejects a cache made by another V8
 * version or under other V8 flags: the bundle is then compiled from source, as any file is (slower,
 * never wrong). `useCache: false` compiles from source (the training run).
 */
function loadBundle(name, { useCache = true } = {}) {
  const files = filesOf(name);
  const source = readFileSync(files.file, 'utf8');
  const cachedData = useCache ? readCache(files) : undefined;
  const script = new Script(
    `(function (exports, require, module, __filename, __dirname) {${source}\n})`,
    { filename: files.file, cachedData },
  );
  const mod = { exports: {} };
  // This file's own require: it resolves from dist/cli/, as one made for the bundle would, and
  // createRequire would load node:module (and with it Node's ES module loader's code).
  script.runInThisContext()(mod.exports, require, mod, files.file, __dirname);
  const cache = cachedData === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'used';
  return { exports: mod.exports, script, cache };
}

/** Write the code V8 has compiled for the bundle `name` so far as its cache (temp + rename). */
function writeCache(name, script) {
  const { cacheFile } = filesOf(name);
  const temp = `${cacheFile}.${process.pid}.tmp`;
  writeFileSync(temp, script.createCachedData());
  renameSync(temp, cacheFile);
}

module.exports = { loadBundle, writeCache };
