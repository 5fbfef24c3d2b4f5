// Loads pstore's CLI (dist/cli/cli.cjs, one CommonJS bundle of every command: scripts/bundle-cli.mjs)
// with the V8 code cache the build made for it (cli.cjs.cache, scripts/train-code-cache.cjs), so
// that a command starts from compiled code instead of compiling its modules (SPEC.md §Start-up
// cost). Node 20 caches only its own built-ins and has no cache for ES modules or for required
// files: a vm.Script with cachedData is the one way. Copied to dist/cli/ by the build; required by
// the `pstore` command (bin.cjs) and by the build's training run, which must compile the same text.
'use strict';

const { readFileSync, renameSync, statSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const path = require('node:path');
const { Script } = require('node:vm');

const CLI = path.join(__dirname, 'cli.cjs');
const CACHE = `${CLI}.cache`;

/**
 * The cache, if it was written after the bundle. V8 checks a cache's V8 version, V8 flags and the
 * length of the text, not the text itself: a bundle changed after its training run (by hand, or by
 * a build without one) must not run the code compiled from the old text.
 */
function readCache() {
  try {
    if (statSync(CACHE).mtimeMs >= statSync(CLI).mtimeMs) return readFileSync(CACHE);
  } catch {
    // no cache: compile from source
  }
  return undefined;
}

/**
 * Compile and run the bundle as Node would run a CommonJS file (same wrapper arguments), from the
 * cache when V8 accepts it. V8 rejects a cache made by another V8 version or under other V8 flags:
 * the bundle is then compiled from source, as any file is (slower, never wrong). `useCache: false`
 * compiles from source (the training run).
 */
function loadCli({ useCache = true } = {}) {
  const source = readFileSync(CLI, 'utf8');
  const cachedData = useCache ? readCache() : undefined;
  const script = new Script(
    `(function (exports, require, module, __filename, __dirname) {${source}\n})`,
    { filename: CLI, cachedData },
  );
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, createRequire(CLI), mod, CLI, __dirname);
  const cache = cachedData === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'used';
  return { cli: mod.exports, script, cache };
}

/** Write the code V8 has compiled for `script` so far as the bundle's cache (temp + rename). */
function writeCache(script) {
  const temp = `${CACHE}.${process.pid}.tmp`;
  writeFileSync(temp, script.createCachedData());
  renameSync(temp, CACHE);
}

module.exports = { loadCli, writeCache, CLI, CACHE };
