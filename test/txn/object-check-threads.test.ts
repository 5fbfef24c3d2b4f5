// The object check shared with the warm placing worker of a big plan (SPEC.md §Check, *Two
// threads*; lib/txn/object-shapes.ts): both threads claim chunks of the placed files from one
// cursor and stop at the first damaged object either meets; the error then names the plan's first
// damaged object whichever thread met it, and a worker that cannot run its share has it looked at
// on the main thread. The claiming loop is tested on real files here; the rest through the CLI with
// a real worker (built tests only: from TypeScript source no worker loads), driven on small plans by
// PSTORE_PLACE_THREADS=2, the worker given every object by PSTORE_TEST_CHECK_WORKER_ONLY=1.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { storeLayout } from '../../lib/store/layout.js';
import {
  lookAtClaimed,
  MISSING,
  shapeDamage,
  type ShapesJob,
} from '../../lib/txn/object-shapes.js';
import { describe, runCli, type CliResult } from '../_helpers/cli.js';
import { objectKeyOf, objectPathOf } from '../_helpers/store.js';
import { buildTree, sha512Integrity, symlink, type TreeSpec } from '../_helpers/tree.js';
import { tempDir, tempStore } from '../_helpers/tmp.js';
import { exists, jsonError } from '../_helpers/txn-trees.js';

/** `n` objects of distinct sizes in a store at `root`, as a shapes job; index 1 is a symlink. */
async function objects(root: string, n: number): Promise<ShapesJob> {
  const job: ShapesJob = {
    kind: 'shapes',
    store: storeLayout(root),
    integrity: [],
    sizes: new Float64Array(n),
    exec: new Uint8Array(n),
    claims: new SharedArrayBuffer(8),
  };
  for (let i = 0; i < n; i++) {
    if (i === 1) {
      job.integrity.push('');
      continue;
    }
    const data = Buffer.from('x'.repeat(i));
    const f = { integrity: sha512Integrity(data), exec: i % 3 === 0 };
    const file = objectPathOf(root, f);
    await fsp.mkdir(path.dirname(file), { recursive: true });
    await fsp.writeFile(file, data, { mode: f.exec ? 0o555 : 0o444 });
    job.integrity.push(f.integrity);
    job.sizes[i] = i;
    job.exec[i] = f.exec ? 1 : 0;
  }
  return job;
}

/** The object path of the job's file `i`. */
function objectAt(job: ShapesJob, root: string, i: number): string {
  return objectPathOf(root, { integrity: job.integrity[i]!, exec: job.exec[i] === 1 });
}

function pathsOf(job: ShapesJob, root: string, from = 0): Map<number, string> {
  const out = new Map<number, string>();
  for (let i = from; i < job.integrity.length; i++)
    if (job.integrity[i] !== '') out.set(i, objectAt(job, root, i));
  return out;
}

test('lookAtClaimed: every file of the list looked at, its object path told, a symlink passed over', async (t) => {
  const root = await tempDir(t, 'shapes');
  const job = await objects(root, 600); // three chunks
  const seen = new Map<number, string>();
  t.is(
    lookAtClaimed(job, (i, file) => seen.set(i, file)),
    -1,
  );
  t.deepEqual(seen, pathsOf(job, root));
  t.is(
    lookAtClaimed(job, () => t.fail('nothing is left to claim')),
    -1,
  );
});

test('lookAtClaimed: the damaged object met is answered, and the other thread claims nothing more', async (t) => {
  const root = await tempDir(t, 'shapes');
  const job = await objects(root, 600);
  const grown = objectAt(job, root, 300);
  await fsp.chmod(grown, 0o644);
  await fsp.appendFile(grown, 'appended through a prefix\n');
  t.is(lookAtClaimed(job), 300);
  t.is(
    lookAtClaimed(job, () => t.fail('a thread that met damage stops the other')),
    -1,
  );
});

test('lookAtClaimed: chunks another thread claimed are not looked at again', async (t) => {
  const root = await tempDir(t, 'shapes');
  const job = await objects(root, 600);
  new Int32Array(job.claims)[0] = 256; // the other thread took the first chunk
  await fsp.rm(objectAt(job, root, 5));
  const seen = new Map<number, string>();
  t.is(
    lookAtClaimed(job, (i, file) => seen.set(i, file)),
    -1,
    "the first chunk's missing object is the other thread's to meet",
  );
  t.deepEqual(seen, pathsOf(job, root, 256));
});

test('shapeDamage: what each lstat finding is called', async (t) => {
  const root = await tempDir(t, 'shapes');
  const file = path.join(root, 'o');
  await fsp.writeFile(file, 'abc', { mode: 0o444 });
  t.is(shapeDamage(file, 3, false), undefined);
  t.is(shapeDamage(file, 4, false), 'it has 3 bytes, the manifest says 4');
  t.is(shapeDamage(file, 3, true), 'its mode is 444');
  t.is(shapeDamage(path.join(root, 'none'), 3, false), MISSING);
  t.is(shapeDamage(root, 3, false), 'it is not a regular file');
});

// -- through the CLI, with a real worker --------------------------------------------------------

const built = import.meta.url.endsWith('.ts') ? test.skip : test;
const TWO = { PSTORE_PLACE_THREADS: '2' };
const WORKER_ONLY = { ...TWO, PSTORE_TEST_CHECK_WORKER_ONLY: '1' };

/** 600 files in 30 directories (three chunks of the check), a symlink and a marker unit. */
function wideTree(): TreeSpec {
  const spec: TreeSpec = { 'site/w-1.dist-info/METADATA': 'Name: w\n' };
  for (let d = 0; d < 30; d++)
    for (let f = 0; f < 20; f++) spec[`d${String(d).padStart(2, '0')}/f${f}`] = `file ${d} ${f}\n`;
  spec['d00/link'] = symlink('f0');
  return spec;
}

/** The object of the tree's file at `rel`. */
function objectOf(store: string, rel: string): { file: string; key: string } {
  const spec = wideTree();
  const f = { integrity: sha512Integrity(Buffer.from(spec[rel] as string)), exec: false };
  return { file: objectPathOf(store, f), key: objectKeyOf(f) };
}

async function appendTo(object: string): Promise<void> {
  await fsp.chmod(object, 0o644);
  await fsp.appendFile(object, 'appended through a prefix\n');
}

async function addWide(t: ExecutionContext): Promise<{ dir: string; store: string }> {
  const dir = await tempDir(t, 'check-threads');
  const store = await tempStore(t);
  const src = await buildTree(path.join(dir, 'src'), wideTree());
  const r = await runCli(['add', src, '--name', 'w', '--version', '1', '--store', store, '-q']);
  t.is(r.code, 0, describe(r));
  return { dir, store };
}

function activate(dir: string, store: string, env: Record<string, string>): Promise<CliResult> {
  const prefix = path.join(dir, 'p');
  return runCli(['activate', 'w@1', '--prefix', prefix, '--store', store, '--json'], { env });
}

/** The activation refused the object as damaged, before any change (no file of the tree placed). */
async function refused(t: ExecutionContext, r: CliResult, dir: string, key: string, rel: string) {
  t.is(r.code, 4, describe(r));
  t.like(jsonError(r), { code: 'EPSTORE_INTEGRITY', subject: key, data: { path: rel } });
  t.false(await exists(path.join(dir, 'p', 'd00')), 'nothing placed');
}

built(
  "the worker's share: a damaged object it alone looks at refuses the activation",
  async (t) => {
    const { dir, store } = await addWide(t);
    const late = objectOf(store, 'd29/f9');
    await appendTo(late.file);
    await refused(t, await activate(dir, store, WORKER_ONLY), dir, late.key, 'd29/f9');
  },
);

built("the worker's share, all intact: the activation places the tree", async (t) => {
  const { dir, store } = await addWide(t);
  const r = await activate(dir, store, WORKER_ONLY);
  t.is(r.code, 0, describe(r));
  t.is(await fsp.readFile(path.join(dir, 'p', 'd29', 'f9'), 'utf8'), 'file 29 9\n');
});

built(
  'a marker unit is looked at by the main thread while the worker has the placed files',
  async (t) => {
    const { dir, store } = await addWide(t);
    const rel = 'site/w-1.dist-info/METADATA';
    const f = { integrity: sha512Integrity(Buffer.from('Name: w\n')), exec: false };
    await fsp.rm(objectPathOf(store, f));
    await refused(t, await activate(dir, store, WORKER_ONLY), dir, objectKeyOf(f), rel);
  },
);

built('a worker that ends before its share: the main thread looks at every object', async (t) => {
  const { dir, store } = await addWide(t);
  const late = objectOf(store, 'd29/f9');
  await appendTo(late.file);
  const gone = { ...WORKER_ONLY, PSTORE_TEST_PLACE_WORKER_EXIT: 'check' };
  await refused(t, await activate(dir, store, gone), dir, late.key, 'd29/f9');
});

built(
  'two damaged objects: the error names the first in plan order, whichever thread met one',
  async (t) => {
    const { dir, store } = await addWide(t);
    const [first, last] = [objectOf(store, 'd00/f0'), objectOf(store, 'd29/f9')];
    await appendTo(first.file);
    await appendTo(last.file);
    for (const env of [TWO, WORKER_ONLY])
      await refused(t, await activate(dir, store, env), dir, first.key, 'd00/f0');
  },
);
