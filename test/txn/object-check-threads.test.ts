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
import { refuseDamagedObjects } from '../../lib/txn/object-check.js';
import { dropWarmPlaceWorker, takePlaceWorker, warmPlaceWorker } from '../../lib/txn/placer.js';
import { planTransaction, type PlanPackage } from '../../lib/txn/plan.js';
import {
  beginLooking,
  callOffWorker,
  lookAtClaimed,
  MISSING,
  newClaims,
  shapeDamage,
  type ShapesJob,
} from '../../lib/txn/object-shapes.js';
import { describe, runCli, type CliResult } from '../_helpers/cli.js';
import { fakeId, mfile, withParents } from '../_helpers/manifests.js';
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
    claims: newClaims(),
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

test('the worker begins, or is called off by a main thread that claimed every file: never both', async (t) => {
  const root = await tempDir(t, 'shapes');
  const late = await objects(root, 600);
  t.false(callOffWorker(late), 'files left to claim: not called off');
  t.is(lookAtClaimed(late), -1);
  t.true(callOffWorker(late), 'all claimed, not begun: called off');
  t.false(beginLooking(late.claims), 'it then looks at nothing');
  const early = await objects(root, 600);
  t.true(beginLooking(early.claims));
  t.is(lookAtClaimed(early), -1);
  t.false(callOffWorker(early), 'begun: its answer is waited for');
});

// -- through the CLI, with a real worker --------------------------------------------------------

const built = import.meta.url.endsWith('.ts') ? test.skip : test;
process.env.PSTORE_PLACE_THREADS = '2'; // a warm worker for a small plan (this process's checks)
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

built(
  'damage met by both threads: the placed file is named before a marker unit, as one thread would',
  async (t) => {
    const { dir, store } = await addWide(t);
    const late = objectOf(store, 'd29/f9'); // the worker's (it has every placed file)
    await appendTo(late.file);
    const metadata = { integrity: sha512Integrity(Buffer.from('Name: w\n')), exec: false };
    await fsp.rm(objectPathOf(store, metadata)); // the main thread's: a marker unit
    await refused(t, await activate(dir, store, WORKER_ONLY), dir, late.key, 'd29/f9');
  },
);

built('two checks of one process at once, one warm worker: each gets its own answer', async (t) => {
  const root = await tempDir(t, 'two-checks');
  const plans = [0, 1].map((k) => {
    const files = Array.from({ length: 700 }, (_, i) => mfile(`p${k}/f${i}`, `p${k} ${i}\n`));
    const all = withParents(files);
    const ref = { name: `p${k}`, version: '1', id: fakeId(`p${k}`) };
    const pkg: PlanPackage = {
      ref,
      manifest: { formatVersion: 1, name: ref.name, version: '1', markers: [], files: all },
    };
    return { pkg, plan: planTransaction([], [pkg]), files };
  });
  for (const { files } of plans)
    for (const f of files) {
      if (f.type !== 'file') continue;
      const obj = objectPathOf(root, f);
      await fsp.mkdir(path.dirname(obj), { recursive: true });
      await fsp.writeFile(obj, `${f.path.replace('/f', ' ')}\n`, { mode: 0o444 });
    }
  const damaged = plans[1]!.files[650]!;
  if (damaged.type !== 'file') return t.fail();
  await fsp.appendFile(objectPathOf(root, damaged), 'appended\n');
  // both checks' every object to the one warm worker they find: their jobs queue there
  process.env.PSTORE_TEST_CHECK_WORKER_ONLY = '1';
  t.teardown(() => {
    delete process.env.PSTORE_TEST_CHECK_WORKER_ONLY;
    dropWarmPlaceWorker();
  });
  warmPlaceWorker(1);
  const layout = storeLayout(root);
  const [ok, bad] = await Promise.allSettled(
    plans.map(({ pkg, plan }) => refuseDamagedObjects(layout, plan, [pkg])),
  );
  t.is(ok!.status, 'fulfilled');
  t.like(bad, { status: 'rejected', reason: { code: 'EPSTORE_INTEGRITY' } });
  t.like((bad as PromiseRejectedResult).reason, { data: { path: damaged.path } });
});

built(
  'the worker marks its start before it claims, and a job called off claims nothing',
  async (t) => {
    const root = await tempDir(t, 'shapes');
    const worker = takePlaceWorker(1);
    if (!worker) return t.fail('no worker for a two-thread plan');
    t.teardown(() => worker.release());
    const begun = await objects(root, 600);
    t.like(await worker.ask(begun), { looked: -1 });
    t.is(new Int32Array(begun.claims)[2], 1, 'BEGUN: the main thread can no longer call it off');
    const late = await objects(root, 600);
    await fsp.rm(objectAt(late, root, 0));
    new Int32Array(late.claims)[2] = 2; // CALLED_OFF before the worker began
    t.like(await worker.ask(late), { looked: -1 }, 'its missing first object not looked at');
    t.is(new Int32Array(late.claims)[0], 0, 'nothing claimed');
  },
);

built(
  "an lstat failing in one thread does not hide an earlier damaged object: it is named, as one thread's check would",
  async (t) => {
    const { dir, store } = await addWide(t);
    const first = objectOf(store, 'd00/f0'); // the plan's first placed file: the worker's
    const metadata = objectPathOf(store, {
      integrity: sha512Integrity(Buffer.from('Name: w\n')),
      exec: false,
    });
    const shard = path.dirname(metadata); // the marker unit's object, the main thread's
    t.not(path.dirname(first.file), shard, 'the test needs them in different shards');
    await appendTo(first.file);
    await fsp.rm(shard, { recursive: true });
    await fsp.symlink(path.basename(shard), shard); // a loop: its lstat fails with ELOOP
    await refused(t, await activate(dir, store, WORKER_ONLY), dir, first.key, 'd00/f0');
  },
);
