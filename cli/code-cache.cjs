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

/**
 * V8 checks a cache's V8 version, V8 flags and the length of the text, not the text itself: a
 * bundle replaced by another of the same length must not run the code compiled from the old one.
 * So the build ends each bundle with a line naming its text (withBundleId: the sha256 of
 * everything before it, ID_LENGTH hex digits), a cache starts with the id of the text it was
 * made from, and a cache is used only under its bundle's id (a copy of another build's bundle)
 * and if it is not older than its bundle (a bundle edited by hand keeps its id).
 */
const ID_PREFIX = '\n//# pstore-bundle-id=';
const ID_LENGTH = 64;

/** The bundle `name`'s file and its cache's. */
function filesOf(name) {
  const file = path.join(__dirname, `${name}.cjs`);
  return { file, cacheFile: `${file}.cache` };
}

/**
 * A bundle's text as the build writes it (scripts/bundle-cli.mjs): `code`, then its id line. Build
 * time only: node:crypto is loaded here, never by a command.
 */
function withBundleId(code) {
  const id = require('node:crypto').createHash('sha256').update(code).digest('hex');
  return `${code}${ID_PREFIX}${id}\n`;
}

/** The id a bundle's text ends with, or undefined (a bundle not built by scripts/bundle-cli.mjs). */
function idOf(source) {
  const tail = source.slice(-(ID_PREFIX.length + ID_LENGTH + 1));
  return tail.startsWith(ID_PREFIX) ? tail.slice(ID_PREFIX.length, -1) : undefined;
}

/** The cache's code if it was made from this very text (its id, its time), else undefined. */
function readCache({ file, cacheFile }, id) {
  let data;
  try {
    if (statSync(cacheFile).mtimeMs < statSync(file).mtimeMs) return undefined;
    data = readFileSync(cacheFile);
  } catch {
    return undefined; // no cache: compile from source
  }
  return id !== undefined && data.length > ID_LENGTH && data.toString('latin1', 0, ID_LENGTH) === id
    ? data.subarray(ID_LENGTH)
    : undefined;
}

/**
 * Compile and run the bundle `name` as Node would run a CommonJS file (same wrapper arguments, and
 * strict, as the ES modules it is built from), from its cache when V8 accepts it, and return its
 * exports. V8 rejects a cache made by another V8 version or under other V8 flags: the bundle is
 * then compiled from source, as any file is (slower, never wrong). `useCache: false` compiles from
 * source (the training run).
 */
function loadBundle(name, { useCache = true } = {}) {
  const files = filesOf(name);
  const { file } = files;
  const source = readFileSync(file, 'utf8');
  const cachedData = useCache ? readCache(files, idOf(source)) : undefined;
  const script = new Script(
    `(function (exports, require, module, __filename, __dirname) {'use strict';${source}\n})`,
    { filename: file, cachedData },
  );
  const mod = { exports: {} };
  // This file's own require: it resolves from dist/cli/, as one made for the bundle would, and
  // createRequire would load node:module (and with it Node's ES module loader's code).
  script.runInThisContext()(mod.exports, require, mod, file, __dirname);
  const cache = cachedData === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'used';
  return { exports: mod.exports, script, source, cache };
}

/**
 * Write the code V8 has compiled for a bundle loaded by loadBundle so far as its cache, under
 * the bundle's id (temp + rename). false, and nothing written, for a bundle without an id.
 */
function writeCache(name, { script, source }) {
  const id = idOf(source);
  if (id === undefined) return false;
  const { cacheFile } = filesOf(name);
  const temp = `${cacheFile}.${process.pid}.tmp`;
  writeFileSync(temp, Buffer.concat([Buffer.from(id, 'latin1'), script.createCachedData()]));
  renameSync(temp, cacheFile);
  return true;
}

module.exports = { loadBundle, writeCache, withBundleId };
