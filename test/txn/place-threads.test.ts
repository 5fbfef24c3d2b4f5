// A big apply's second thread (SPEC.md §Step order, *Two threads*; lib/txn/place-threads.ts),
// driven on small plans by PSTORE_PLACE_THREADS=2: the worker really places directories and files
// (strace), the tree is the one a single thread makes, and a failure in the worker's half fails
// the activation as one thread's does and leaves nothing. Crashes while both threads place:
// prefix-crash.test.ts (its "two threads" cases).

import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { describe, finished, jsonOut, runCli, spawnCli } from '../_helpers/cli.js';
import { HAS_STRACE } from '../_helpers/strace.js';
import { buildTree, symlink, type TreeSpec } from '../_helpers/tree.js';
import { tempDir, tempStore } from '../_helpers/tmp.js';
import { exists } from '../_helpers/txn-trees.js';
import { prefixPaths } from '../../lib/prefix/layout.js';
import { readCurrent, readCurrentGeneration } from '../../lib/prefix/state.js';
import { OwnershipDb } from '../../lib/txn/ownership/db.js';
import { setDigest } from '../../lib/txn/ownership/entry.js';
import { parentsFrom } from '../../lib/txn/place-threads.js';
import { placeThreads, THREADED_MIN_PLACE } from '../../lib/txn/placer.js';

const ONE = { PSTORE_PLACE_THREADS: '1' };
const TWO = { PSTORE_PLACE_THREADS: '2' };

test('parentsFrom: what the worker half needs of the main half, ancestors too, parents first', (t) => {
  const mine = new Set(['a', 'a/b', 'a/b/c', 'a/d']);
  t.deepEqual(parentsFrom(['a/b/c/x', 'a/e', 'f', 'f/g'], mine), ['a', 'a/b', 'a/b/c']);
  t.deepEqual(parentsFrom(['f', 'f/g'], mine), [], 'parents of its own, or the root');
  t.deepEqual(parentsFrom([], mine), []);
});

test('placeThreads: off by =1 and for no file, on by =2, by size and cores otherwise', (t) => {
  // from TypeScript source (npx ava FILE.test.ts) a worker cannot load: one thread always
  const two = import.meta.url.endsWith('.ts') ? 1 : 2;
  t.is(placeThreads(THREADED_MIN_PLACE, '1'), 1);
  t.is(placeThreads(0, '2'), 1);
  t.is(placeThreads(3, '2'), two);
  t.is(placeThreads(THREADED_MIN_PLACE - 1, undefined), 1);
  t.is(placeThreads(THREADED_MIN_PLACE, undefined), os.availableParallelism() >= 2 ? two : 1);
});

/** 12 directories of 5 files, two nested levels, symlinks, and a marker unit. */
function spreadTree(): TreeSpec {
  const spec: TreeSpec = { 'site/a-1.dist-info/METADATA': 'Name: a\n' };
  for (let d = 0; d < 12; d++)
    for (let f = 0; f < 5; f++) spec[`d${d}/sub/f${f}`] = `file ${d} ${f}\n`;
  spec['d0/link'] = symlink('sub/f0');
  spec['d11/sub/link'] = symlink('f4');
  return spec;
}

async function addSpread(t: ExecutionContext, dir: string): Promise<string> {
  const store = await tempStore(t);
  const src = await buildTree(path.join(dir, 'src'), spreadTree());
  const r = await runCli(['add', src, '--name', 'a', '--version', '1', '--store', store, '-q']);
  t.is(r.code, 0, describe(r));
  return store;
}

/** Every entry under `root` but pstore's state: path, type, and an object's inode or a target. */
async function shape(root: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (rel: string): Promise<void> => {
    for (const e of await fsp.readdir(path.join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (r === '.pstore') continue;
      const abs = path.join(root, r);
      if (e.isDirectory()) {
        out.push(`${r}/`);
        await visit(r);
      } else if (e.isSymbolicLink()) out.push(`${r} -> ${await fsp.readlink(abs)}`);
      else out.push(`${r} inode ${(await fsp.stat(abs)).ino}`);
    }
  };
  await visit('');
  return out.sort();
}

(HAS_STRACE ? test : test.skip)(
  'two threads place the tree one thread places, and both threads make directories and links',
  async (t) => {
    const dir = await tempDir(t, 'place-threads');
    const store = await addSpread(t, dir);
    const activate = (p: string, env: Record<string, string>, under?: string[]) =>
      runCli(['activate', 'a@1', '--prefix', path.join(dir, p), '--store', store, '-q'], {
        env,
        ...(under ? { under } : {}),
      });
    const one = await activate('one', ONE);
    t.is(one.code, 0, describe(one));
    const log = path.join(dir, 'strace.log');
    const two = await activate('two', TWO, ['strace', '-f', '-e', 'trace=mkdir,link', '-o', log]);
    t.is(two.code, 0, describe(two));
    t.deepEqual(await shape(path.join(dir, 'two')), await shape(path.join(dir, 'one')));
    const inTwo = (await fsp.readFile(log, 'utf8'))
      .split('\n')
      .filter((l) => /"[^"]*\/two\/(d\d|site)/.test(l)); // the package's paths, not pstore's state
    const threadsDoing = (call: string) =>
      new Set(inTwo.filter((l) => l.includes(` ${call}(`)).map((l) => l.split(/\s+/)[0])).size;
    t.is(threadsDoing('mkdir'), 2, 'directories made by two threads');
    t.is(threadsDoing('link'), 2, 'files linked by two threads');
  },
);

/** 30 directories of 40 files: each thread's half is long enough to be under way when the other fails. */
function wideTree(): TreeSpec {
  const spec: TreeSpec = {};
  for (let d = 0; d < 30; d++)
    for (let f = 0; f < 40; f++) spec[`d${d}/sub/f${f}`] = `file ${d} ${f}\n`;
  return spec;
}

/**
 * Activate a@1 (wideTree) into a prefix holding b@1, with `plant` done to the prefix after the
 * checks (the transaction paused after its journal): what failed, and what is left.
 */
async function failingActivation(
  t: ExecutionContext,
  dir: string,
  store: string,
  name: string,
  env: Record<string, string>,
  plant: (prefix: string) => Promise<unknown>,
  planted: string,
): Promise<{
  error: string;
  dirs: string[];
  files: string[];
  journal: boolean;
  recovered?: string;
}> {
  const prefix = path.join(dir, name);
  const before = await runCli(['activate', 'b@1', '--prefix', prefix, '--store', store]);
  t.is(before.code, 0, describe(before));
  const release = path.join(dir, `${name}.go`);
  const done = finished(
    spawnCli(['activate', 'a@1', '--prefix', prefix, '--store', store, '--json'], {
      env: {
        ...env,
        PSTORE_TEST_PAUSEPOINT: 'txn:after-journal:30000',
        PSTORE_TEST_PAUSE_RELEASE: release,
      },
    }),
  );
  while (!(await exists(path.join(prefix, '.pstore', 'journal.json'))))
    await new Promise((r) => setTimeout(r, 20));
  await plant(prefix);
  await fsp.writeFile(release, '');
  const r = await done;
  t.is(r.code, 3, `a conflict (the prefix changed after the check), not a bug: ${describe(r)}`);
  await assertIndexDescribesCommitted(t, prefix);
  const { error } = JSON.parse(r.stderr) as { error: { code: string; message: string } };
  const message = error.message.replaceAll(prefix, 'PREFIX').replace(/\.pstore-tmp-[\w-]+/g, 'TMP');
  // The revert may meet the planted obstacle too: its journal then stays, and once the obstacle is
  // gone (removed in both cases) recovery lands on one side, forward first (SPEC.md §Recovery).
  const journalFile = path.join(prefix, '.pstore', 'journal.json');
  const journal = await exists(journalFile);
  t.true(await exists(path.join(prefix, planted)), "the user's obstacle is left as it was put");
  await fsp.rm(path.join(prefix, planted), { recursive: true, force: true });
  let recovered: string | undefined;
  if (journal) {
    const rec = await runCli(['recover', '--prefix', prefix, '--store', store, '--json']);
    t.is(rec.code, 0, describe(rec));
    t.false(await exists(journalFile), 'recovered');
    recovered = jsonOut<{ action: string }>(rec).action;
  }
  const left = await shape(prefix);
  return {
    error: `${error.code}: ${message}`,
    dirs: left.filter((l) => l.endsWith('/')),
    files: left.filter((l) => !l.endsWith('/')).map((l) => l.replace(/ inode \d+$/, '')),
    journal,
    ...(recovered === undefined ? {} : { recovered }),
  };
}

/**
 * The ownership index still describes the committed set: the batch the failed transaction built
 * while its apply ran (from the moment its main thread waited for the worker) was never written.
 */
async function assertIndexDescribesCommitted(t: ExecutionContext, prefix: string): Promise<void> {
  const p = prefixPaths(prefix, 'inplace');
  const committed = (await readCurrentGeneration(p, await readCurrent(p))).packages;
  const db = await OwnershipDb.open(p);
  try {
    t.is((await db!.meta()).digest, setDigest(committed), 'the index describes the committed set');
  } finally {
    await db?.close();
  }
}

// plan.place is in path order: d9/sub/f39 is the last file (the worker's), d1/sub/f0 an early one
// of the main thread's (the worker is placing its half meanwhile); sorted directories: d1/sub is
// the main thread's, d9 the worker's. Each planted obstacle is removed after the failure.
const PLANTS: Array<[string, string, (prefix: string) => Promise<unknown>]> = [
  [
    "a directory where the worker's last file goes",
    'd9/sub/f39',
    (p) => fsp.mkdir(`${p}/d9/sub/f39`, { recursive: true }),
  ],
  [
    'a directory where an early main-thread file goes',
    'd1/sub/f0',
    (p) => fsp.mkdir(`${p}/d1/sub/f0`, { recursive: true }),
  ],
  ["a file where a worker's directory goes", 'd9', (p) => fsp.writeFile(`${p}/d9`, 'x\n')],
  [
    'a file where a main-thread directory goes',
    'd1/sub',
    (p) => fsp.mkdir(`${p}/d1`).then(() => fsp.writeFile(`${p}/d1/sub`, 'x\n')),
  ],
];

for (const [what, planted, plant] of PLANTS)
  test(`${what}: the activation fails as with one thread`, async (t) => {
    const dir = await tempDir(t, 'place-fail');
    const store = await tempStore(t);
    const a = await buildTree(path.join(dir, 'a'), wideTree());
    const b = await buildTree(path.join(dir, 'b'), { 'b/readme': 'b\n' });
    for (const [src, name] of [
      [a, 'a'],
      [b, 'b'],
    ] as const) {
      const r = await runCli([
        'add',
        src,
        '--name',
        name,
        '--version',
        '1',
        '--store',
        store,
        '-q',
      ]);
      t.is(r.code, 0, describe(r));
    }
    const one = await failingActivation(t, dir, store, 'one', ONE, plant, planted);
    const two = await failingActivation(t, dir, store, 'two', TWO, plant, planted);
    t.is(two.error, one.error, 'the same error');
    t.is(two.journal, one.journal, 'reverted, or the journal left for recovery, alike');
    t.deepEqual(two, one, 'the same directories and files left once reverted or recovered');
    // exactly the old set (reverted, or rolled back) or the new one (recovery rolled forward)
    const before = ['b/readme'];
    const after = [...before, ...Object.keys(wideTree())].sort();
    t.deepEqual(
      [...one.files].sort(),
      one.recovered === 'rolled-forward' ? after : before,
      `left: the ${one.recovered === 'rolled-forward' ? 'new' : 'old'} set exactly`,
    );
  });

test("a worker thread that ends before its files: the main thread places them, the tree is one thread's", async (t) => {
  const dir = await tempDir(t, 'place-gone');
  const store = await addSpread(t, dir);
  const activate = (p: string, env: Record<string, string>) =>
    runCli(['activate', 'a@1', '--prefix', path.join(dir, p), '--store', store, '--json'], { env });
  const one = await activate('one', ONE);
  t.is(one.code, 0, describe(one));
  const gone = await activate('gone', { ...TWO, PSTORE_TEST_PLACE_WORKER_EXIT: '1' });
  t.is(gone.code, 0, describe(gone));
  t.deepEqual(await shape(path.join(dir, 'gone')), await shape(path.join(dir, 'one')));
  t.is(jsonOut<{ link: string }>(gone).link, 'hardlink');
});
