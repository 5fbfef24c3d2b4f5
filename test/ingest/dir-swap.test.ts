// A directory source changed under pstore between its walk and the reading of its files: a file's
// parent swapped for a symlink, a file swapped for a directory or a FIFO. Each is refused with
// EPSTORE_UNSAFE_PATH naming the path, records nothing, and never reads a byte from outside the
// tree. The swap happens at a fixed instant: inside the progress event that announces the walk's
// totals, after the walk and before the first file is opened.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { isPstoreError, openStore } from '../../lib/index.js';
import type { ProgressEvent } from '../../lib/index.js';
import { rejection } from '../_helpers/api.js';
import { objectFiles } from '../_helpers/store.js';
import { buildTree } from '../_helpers/tree.js';
import { tempDir, tempStore } from '../_helpers/tmp.js';

const SECRET = 'outside the tree: must never be stored\n';

/** A tree `src/lib/mod.py` and, beside it, `outside/mod.py` that holds SECRET. */
async function treeAndOutside(t: ExecutionContext): Promise<{ src: string; outside: string }> {
  const dir = await tempDir(t, 'swap');
  const src = await buildTree(path.join(dir, 'src'), {
    'lib/mod.py': 'inside\n',
    'lib/other.py': 'other\n',
  });
  const outside = await buildTree(path.join(dir, 'outside'), {
    'mod.py': SECRET,
    'other.py': SECRET,
  });
  return { src, outside };
}

/** Run `swap` once, when the walk has counted the tree and before any file is read. */
function afterWalk(swap: () => void): (e: ProgressEvent) => void {
  let done = false;
  return (e) => {
    if (done || e.phase !== 'ingest' || e.total === undefined) return;
    done = true;
    swap();
  };
}

async function assertRefusedUnsafe(
  t: ExecutionContext,
  storeDir: string,
  src: string,
  swap: () => void,
): Promise<void> {
  const store = openStore({ path: storeDir });
  const err = await rejection(
    store.add(src, { name: 'p', version: '1', onProgress: afterWalk(swap) }),
  );
  t.true(isPstoreError(err), String(err));
  if (!isPstoreError(err)) return;
  t.is(err.code, 'EPSTORE_UNSAFE_PATH', err.message);
  t.true(err.subject?.startsWith(path.join(src, 'lib')), `subject ${err.subject}`);
  t.deepEqual(await store.list(), [], 'no entry recorded');
  for (const o of await objectFiles(storeDir))
    t.not(fs.readFileSync(o.file, 'utf8'), SECRET, 'no byte from outside the tree was stored');
}

test('a parent directory swapped for a symlink after the walk is refused, not read through', async (t) => {
  const { src, outside } = await treeAndOutside(t);
  await assertRefusedUnsafe(t, await tempStore(t), src, () => {
    const lib = path.join(src, 'lib');
    fs.renameSync(lib, `${lib}.moved`);
    fs.symlinkSync(outside, lib);
  });
});

test('a file swapped for a directory after the walk is refused', async (t) => {
  const { src } = await treeAndOutside(t);
  await assertRefusedUnsafe(t, await tempStore(t), src, () => {
    const mod = path.join(src, 'lib', 'mod.py');
    fs.rmSync(mod);
    fs.mkdirSync(mod);
  });
});

test('a file swapped for a FIFO after the walk is refused, not waited on', async (t) => {
  const { src } = await treeAndOutside(t);
  await assertRefusedUnsafe(t, await tempStore(t), src, () => {
    const mod = path.join(src, 'lib', 'mod.py');
    fs.rmSync(mod);
    execFileSync('mkfifo', [mod]);
  });
});

test('an untouched tree still adds (the checks refuse only a change)', async (t) => {
  const { src } = await treeAndOutside(t);
  const store = openStore({ path: await tempStore(t) });
  const added = await store.add(src, { name: 'p', version: '1', onProgress: () => {} });
  t.is(added.objectsWritten, 2);
});
