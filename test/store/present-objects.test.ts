// Objects already in the store are kept, not written again, whatever their size (large ones are
// hashed before anything is written); a damaged one is replaced. Trees and tars alike.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { describe, jsonOut, storeCli } from '../_helpers/cli.js';
import { flipByte, objectPathOf } from '../_helpers/store.js';
import { buildTree, file, sha512Integrity } from '../_helpers/tree.js';
import { tempDir, tempStore } from '../_helpers/tmp.js';

/** Over the 8 MiB above which files are streamed, not read whole. */
const LARGE = 9 * 1024 * 1024;

async function treeWithLargeFile(dir: string): Promise<{ src: string; large: Buffer }> {
  const large = randomBytes(LARGE);
  const src = await buildTree(path.join(dir, 'src'), {
    'share/big.bin': file(large),
    'bin/tool': file('#!/bin/sh\necho tool\n', 0o755),
    'share/small.txt': 'small\n',
  });
  return { src, large };
}

async function inodeOf(file: string): Promise<number> {
  return (await fsp.stat(file)).ino;
}

test('re-adding a tree writes none of its objects again, large ones included', async (t) => {
  const dir = await tempDir(t, 'present');
  const { src, large } = await treeWithLargeFile(dir);
  const store = await tempStore(t);
  const cli = storeCli(store);
  const first = await cli(['add', src, '--name', 'p', '--version', '1', '--json']);
  t.is(first.code, 0, describe(first));
  t.like(jsonOut(first), { files: 3, objectsWritten: 3 });
  const bigObject = objectPathOf(store, { integrity: sha512Integrity(large), exec: false });
  const smallObject = objectPathOf(store, {
    integrity: sha512Integrity(Buffer.from('small\n')),
    exec: false,
  });
  const before = [await inodeOf(bigObject), await inodeOf(smallObject)];

  const again = await cli(['add', src, '--name', 'p', '--version', '2', '--json']);
  t.is(again.code, 0, describe(again));
  t.like(jsonOut(again), { files: 3, objectsWritten: 0 });
  t.deepEqual([await inodeOf(bigObject), await inodeOf(smallObject)], before, 'same inodes');
});

test('a damaged large object of the same size is replaced by a re-add', async (t) => {
  const dir = await tempDir(t, 'damaged');
  const { src, large } = await treeWithLargeFile(dir);
  const store = await tempStore(t);
  const cli = storeCli(store);
  t.is((await cli(['add', src, '--name', 'p', '--version', '1', '-q'])).code, 0);
  const bigObject = objectPathOf(store, { integrity: sha512Integrity(large), exec: false });
  await flipByte(bigObject, LARGE - 1);
  t.is((await cli(['verify', '-q'])).code, 4, 'verify sees the damage');

  const again = await cli(['add', src, '--name', 'p', '--version', '2', '--json']);
  t.is(again.code, 0, describe(again));
  t.like(jsonOut(again), { objectsWritten: 1 }, 'only the damaged object is written');
  t.true((await fsp.readFile(bigObject)).equals(large));
  const verify = await cli(['verify', '--json']);
  t.is(verify.code, 0, describe(verify));
});

test('a tar re-added keeps its present large object (same inode)', async (t) => {
  const dir = await tempDir(t, 'tar');
  const { src, large } = await treeWithLargeFile(dir);
  const tar = path.join(dir, 'p.tar');
  execFileSync('tar', ['-cf', tar, '-C', src, '.']);
  const store = await tempStore(t);
  const cli = storeCli(store);
  t.is((await cli(['add', tar, '--name', 'p', '--version', '1', '-q'])).code, 0);
  const bigObject = objectPathOf(store, { integrity: sha512Integrity(large), exec: false });
  const before = await inodeOf(bigObject);
  const again = await cli(['add', tar, '--name', 'p', '--version', '2', '--json']);
  t.is(again.code, 0, describe(again));
  t.like(jsonOut(again), { objectsWritten: 0 });
  t.is(await inodeOf(bigObject), before);
});
