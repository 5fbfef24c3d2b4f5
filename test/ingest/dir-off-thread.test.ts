// A directory's files of 256 KiB to 8 MiB are hashed on a thread-pool thread while the walk's
// other files go on (lib/ingest/from-dir.ts, OFF_THREAD_BYTES): the entry must be the one its
// description gives, each distinct object written once, a re-add writing none and repairing a
// damaged one, whatever order the hashes finish in.

import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { openStore } from '../../lib/index.js';
import { OFF_THREAD_BYTES } from '../../lib/ingest/from-dir.js';
import { assertCleanStore, expectedEntryId, flipByte, objectPathOf } from '../_helpers/store.js';
import { describeTree } from '../_helpers/tree.js';
import { tempDir, tempStore } from '../_helpers/tmp.js';

/** Sizes around the threshold and up to the streaming one, small files between them. */
const SIZES = [OFF_THREAD_BYTES - 1, OFF_THREAD_BYTES, 3 << 20, 100, (8 << 20) - 1, 5 << 19, 7];

async function mixedTree(dir: string): Promise<void> {
  await fsp.mkdir(path.join(dir, 'sub'), { recursive: true });
  const bytes = SIZES.map((size) => randomBytes(size));
  for (const [i, data] of bytes.entries()) {
    await fsp.writeFile(path.join(dir, `f${i}`), data);
    await fsp.writeFile(path.join(dir, 'sub', `copy${i}`), data); // the same object again
    await fsp.writeFile(path.join(dir, 'sub', `exec${i}`), data, { mode: 0o755 }); // another
  }
}

test('mixed sizes: the described id, each object written once, a re-add writes none', async (t) => {
  const src = path.join(await tempDir(t, 'off-thread'), 'src');
  await mixedTree(src);
  const root = await tempStore(t);
  const store = openStore({ path: root });
  const first = await store.add(src, { name: 'mixed', version: '1' });
  const described = await describeTree(src);
  t.is(first.id, expectedEntryId('mixed', '1', [], described));
  t.is(first.objectsWritten, SIZES.length * 2, 'plain and executable, each once');
  const again = await store.add(src, { name: 'mixed', version: '1' });
  t.is(again.id, first.id);
  t.is(again.objectsWritten, 0);
  await assertCleanStore(t, root);
});

test('a damaged object hashed off the thread is replaced by a re-add', async (t) => {
  const src = path.join(await tempDir(t, 'off-thread-damage'), 'src');
  await mixedTree(src);
  const root = await tempStore(t);
  const store = openStore({ path: root });
  await store.add(src, { name: 'mixed', version: '1' });
  const big = (await describeTree(src)).find((f) => f.path === 'f2');
  if (big?.type !== 'file') throw new Error('f2 is a file of the tree');
  await flipByte(objectPathOf(root, big), 1000);
  t.false((await store.verify()).ok, 'the damage is seen');
  const again = await store.add(src, { name: 'mixed', version: '1' });
  t.is(again.objectsWritten, 1, 'the damaged object alone');
  await assertCleanStore(t, root);
});
