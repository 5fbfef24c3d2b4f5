// The loader of the CLI's bundles (cli/code-cache.cjs; SPEC.md §Dependencies and cost model,
// *Code cache*): a bundle runs from its V8 code cache only when the cache was made from that very
// text; otherwise it is compiled from source and runs its own text. Each case puts the loader
// beside a small bundle in a temporary directory and runs it in a new `node` (V8 takes a cache
// only under the flags it was made with, as the `pstore` command is started).

import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import test, { type ExecutionContext } from 'ava';
import { REPO } from '../_helpers/cli.js';
import { tempDir } from '../_helpers/tmp.js';

const LOADER = path.join(REPO, 'cli', 'code-cache.cjs');
const NAME = 'tiny';

/** A bundle's text as the build writes it: the code, then its id line (the loader's own rule). */
const { withBundleId: withId } = createRequire(import.meta.url)(LOADER) as {
  withBundleId: (code: string) => string;
};

/** A bundle exporting `answer`, with enough code for V8 to cache. */
const code = (answer: number) =>
  `exports.answer = ${answer};\nexports.sum = (xs) => xs.reduce((a, b) => a + b, 0);\nexports.sum([1, 2, 3]);`;

/** The loader and the bundle `text` in a new directory. */
async function bundleDir(t: ExecutionContext, text: string): Promise<string> {
  const dir = await tempDir(t, 'code-cache');
  await fsp.copyFile(LOADER, path.join(dir, 'code-cache.cjs'));
  await fsp.writeFile(path.join(dir, `${NAME}.cjs`), text);
  return dir;
}

/** Run `script` (with `loader` the loader's exports) in a new node, as a user's shell would. */
async function inNode(dir: string, script: string): Promise<string> {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const loader = JSON.stringify(path.join(dir, 'code-cache.cjs'));
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['-e', `const loader = require(${loader}); ${script}`],
    { env },
  );
  return stdout;
}

/** Load the bundle: how (cache 'used', 'rejected' or 'none') and what it exported. */
async function load(dir: string): Promise<{ cache: string; answer: number }> {
  const out = await inNode(
    dir,
    `const r = loader.loadBundle('${NAME}');
    process.stdout.write(JSON.stringify({ cache: r.cache, answer: r.exports.answer }));`,
  );
  return JSON.parse(out) as { cache: string; answer: number };
}

/** The build's training run in small: load without a cache, run, write the cache. */
async function train(dir: string): Promise<boolean> {
  const out = await inNode(
    dir,
    `const r = loader.loadBundle('${NAME}', { useCache: false });
    r.exports.sum([4, 5]);
    process.stdout.write(String(loader.writeCache('${NAME}', r)));`,
  );
  return out === 'true';
}

const cacheFile = (dir: string) => path.join(dir, `${NAME}.cjs.cache`);

test('a bundle with the cache made from it runs from the cache', async (t) => {
  const dir = await bundleDir(t, withId(code(42)));
  t.deepEqual(await load(dir), { cache: 'none', answer: 42 }, 'no cache yet');
  t.true(await train(dir));
  t.deepEqual(await load(dir), { cache: 'used', answer: 42 });
});

test("another build's bundle of the same length, its time set back: compiled from source, its own text runs", async (t) => {
  const dir = await bundleDir(t, withId(code(42)));
  t.true(await train(dir));
  const bundle = path.join(dir, `${NAME}.cjs`);
  const other = withId(code(43));
  t.is(
    other.length,
    (await fsp.readFile(bundle, 'utf8')).length,
    'the same length: V8 alone would take the cache',
  );
  await fsp.writeFile(bundle, other);
  const { mtime } = await fsp.stat(cacheFile(dir));
  await fsp.utimes(bundle, mtime, new Date(mtime.getTime() - 1000)); // older than the cache
  t.deepEqual(await load(dir), { cache: 'none', answer: 43 });
});

test('a bundle edited by hand (its id line kept, newer than its cache): compiled from source', async (t) => {
  const dir = await bundleDir(t, withId(code(42)));
  t.true(await train(dir));
  const bundle = path.join(dir, `${NAME}.cjs`);
  const edited = (await fsp.readFile(bundle, 'utf8')).replace('answer = 42', 'answer = 44');
  await fsp.writeFile(bundle, edited);
  const { mtime } = await fsp.stat(cacheFile(dir));
  await fsp.utimes(bundle, mtime, new Date(mtime.getTime() + 1000));
  t.deepEqual(await load(dir), { cache: 'none', answer: 44 });
});

test('a cache whose id is damaged is not used; a bundle without an id gets no cache', async (t) => {
  const dir = await bundleDir(t, withId(code(42)));
  t.true(await train(dir));
  const cache = await fsp.readFile(cacheFile(dir));
  cache.write('0'.repeat(8), 0, 'latin1');
  await fsp.writeFile(cacheFile(dir), cache);
  t.deepEqual(await load(dir), { cache: 'none', answer: 42 });

  const bare = await bundleDir(t, code(42));
  t.false(await train(bare), 'writeCache refuses a bundle without an id');
  await t.throwsAsync(fsp.access(cacheFile(bare)), { code: 'ENOENT' });
  t.deepEqual(await load(bare), { cache: 'none', answer: 42 });
});
