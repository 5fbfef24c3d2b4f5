// A big apply's second thread (SPEC.md §Step order, *Two threads*; lib/txn/place-threads.ts),
// driven on small plans by PSTORE_PLACE_THREADS=2: the worker really places directories and files
// (strace), the tree is the one a single thread makes, and a failure in the worker's half fails
// the activation as one thread's does and leaves nothing. Crashes while both threads place:
// prefix-crash.test.ts (its "two threads" cases).

import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { describe, runCli, spawnCli, finished } from '../_helpers/cli.js';
import { HAS_STRACE } from '../_helpers/strace.js';
import { buildTree, symlink, type TreeSpec } from '../_helpers/tree.js';
import { tempDir, tempStore } from '../_helpers/tmp.js';
import { exists } from '../_helpers/txn-trees.js';
import { parentsFrom, placeThreads, THREADED_MIN_PLACE } from '../../lib/txn/place-threads.js';

const ONE = { PSTORE_PLACE_THREADS: '1' };
const TWO = { PSTORE_PLACE_THREADS: '2' };

test('parentsFrom: what the worker half needs of the main half, ancestors too, parents first', (t) => {
  const mine = new Set(['a', 'a/b', 'a/b/c', 'a/d']);
  t.deepEqual(parentsFrom(['a/b/c/x', 'a/e', 'f', 'f/g'], mine), ['a', 'a/b', 'a/b/c']);
  t.deepEqual(parentsFrom(['f', 'f/g'], mine), [], 'parents of its own, or the root');
  t.deepEqual(parentsFrom([], mine), []);
});

test('placeThreads: off by =1 and for no file, on by =2, by size and cores otherwise', (t) => {
  t.is(placeThreads(THREADED_MIN_PLACE, '1'), 1);
  t.is(placeThreads(0, '2'), 1);
  t.is(placeThreads(3, '2'), 2);
  t.is(placeThreads(THREADED_MIN_PLACE - 1, undefined), 1);
  t.is(placeThreads(THREADED_MIN_PLACE, undefined), os.availableParallelism() >= 2 ? 2 : 1);
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

test("a failure in the worker's half fails the activation as one thread's does; nothing is left", async (t) => {
  const dir = await tempDir(t, 'place-fail');
  const store = await addSpread(t, dir);
  const other = await buildTree(path.join(dir, 'other'), { 'b/readme': 'b\n' });
  const added = await runCli(['add', other, '--name', 'b', '--version', '1', '--store', store]);
  t.is(added.code, 0, describe(added));
  const errors: string[] = [];
  const shapes: string[][] = [];
  const journals: boolean[] = [];
  for (const [name, env] of [
    ['one', ONE],
    ['two', TWO],
  ] as const) {
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
    // After the checks: a directory where the plan's last file goes (in the worker's half).
    await fsp.mkdir(path.join(prefix, 'd9', 'sub', 'f4', 'planted'), { recursive: true });
    await fsp.writeFile(release, '');
    const r = await done;
    t.not(r.code, 0, describe(r));
    const { error } = JSON.parse(r.stderr) as { error: { code: string; message: string } };
    const message = error.message
      .replaceAll(prefix, 'PREFIX')
      .replace(/\.pstore-tmp-[\w-]+/g, 'TMP');
    errors.push(`${error.code}: ${message}`);
    const left = await shape(prefix);
    t.deepEqual(
      left.filter((l) => !l.endsWith('/')).map((l) => l.replace(/ inode \d+$/, '')),
      ['b/readme'],
      `${name}: none of the package's files is left`,
    );
    shapes.push(left.filter((l) => l.endsWith('/')));
    // the revert meets the planted directory too: the journal stays for recovery, as with one
    journals.push(await exists(path.join(prefix, '.pstore', 'journal.json')));
  }
  t.is(errors[1], errors[0], 'the same error with two threads as with one');
  t.deepEqual(shapes[1], shapes[0], 'and the same directories left');
  t.is(journals[1], journals[0], 'and the journal left, or not, alike');
});
