// Issue 7, class 4: the LevelDB index is a cache of the manifest files, so losing or damaging it
// never loses an entry. A cut log tail (LevelDB silently drops the damaged record) is noticed by
// comparing the index with the manifests: ls, a ref that does not resolve, verify and gc register
// what the index lacks, and gc decides from the manifests. Damaged index files are set aside and
// rebuilt; no command exits 1.

import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { describe, jsonOut, storeCli } from '../_helpers/cli.js';
import { storeSnapshot } from '../_helpers/snapshot.js';
import { assertCleanStore, lsJson } from '../_helpers/store.js';
import { buildTree, file } from '../_helpers/tree.js';
import { tempDir } from '../_helpers/tmp.js';

async function fx(t: ExecutionContext) {
  const dir = await tempDir(t, 'index-cache');
  const store = path.join(dir, 'store');
  const cli = storeCli(store);
  const add = async (name: string) => {
    const src = await buildTree(path.join(dir, 'src', name), {
      [`share/${name}.txt`]: `${name}\n`,
      'bin/tool': file(`#!/bin/sh\necho ${name}\n`, 0o755),
    });
    const r = await cli(['add', src, '--name', name, '--version', '1', '--json']);
    t.is(r.code, 0, describe(r));
    return jsonOut<{ id: string }>(r).id;
  };
  const ids = async () => (await lsJson(t, store)).map((e) => e.id).sort();
  const resolve = async (ref: string) => {
    const r = await cli(['info', ref, '--json']);
    t.is(r.code, 0, `info ${ref}: ${describe(r)}`);
    return r.code === 0 ? jsonOut<{ id: string }>(r).id : undefined;
  };
  return { dir, store, cli, add, ids, resolve, index: path.join(store, 'index-v1') };
}

/** Cut the newest LevelDB log in half: its last batch (the latest add) is damaged and dropped. */
async function cutLogTail(index: string): Promise<void> {
  const logs = (await fsp.readdir(index)).filter((n) => n.endsWith('.log')).sort();
  const newest = path.join(index, logs.at(-1)!);
  const { size } = await fsp.stat(newest);
  await fsp.truncate(newest, Math.floor(size / 2));
}

test('the tail of the index log is cut: the default gc keeps the last entry, ls lists it, a ref resolves it', async (t) => {
  const f = await fx(t);
  const a = await f.add('alpha');
  const b = await f.add('beta');
  const before = await storeSnapshot(f.store);

  await cutLogTail(f.index);
  const gc = await f.cli(['gc', '--json']);
  t.is(gc.code, 0, describe(gc));
  t.like(jsonOut(gc), { entriesRemoved: [], objectsRemoved: 0 });
  t.deepEqual(await storeSnapshot(f.store), before, 'gc removed no manifest and no object');
  t.deepEqual(await f.ids(), [a, b].sort(), 'ls lists the entry the index had lost');

  // Again, and this time the first command is a lookup of the lost entry itself.
  const c = await f.add('gamma');
  await cutLogTail(f.index);
  t.is(await f.resolve('gamma@1'), c, 'a ref the index lacks is found in the manifests');
  t.deepEqual(await f.ids(), [a, b, c].sort());
  await assertCleanStore(t, f.store);
});

test('damaged index files: every command works, the index is set aside and rebuilt from the manifests, and gc removes the broken copy', async (t) => {
  const f = await fx(t);
  const a = await f.add('alpha');
  const b = await f.add('beta');
  for (const name of await fsp.readdir(f.index))
    await fsp.writeFile(path.join(f.index, name), randomBytes(200));
  const before = await storeSnapshot(f.store);

  t.deepEqual(await f.ids(), [a, b].sort(), 'ls answers from a rebuilt index');
  t.is(await f.resolve('alpha'), a);
  const v = await f.cli(['verify', '--json']);
  t.is(v.code, 0, describe(v));
  t.deepEqual(await storeSnapshot(f.store), before, 'only the index changed');
  const broken = (await fsp.readdir(f.store)).filter((n) => n.startsWith('index-v1.broken-'));
  t.is(broken.length, 1, 'the damaged index was set aside, once');

  const c = await f.add('gamma');
  const gc = await f.cli(['gc', '--json']);
  t.is(gc.code, 0, describe(gc));
  t.like(jsonOut(gc), { entriesRemoved: [], objectsRemoved: 0, tmpRemoved: 1 });
  t.deepEqual(
    (await fsp.readdir(f.store)).filter((n) => n.startsWith('index-v1.')),
    [],
    'gc removed the broken copy',
  );
  t.deepEqual(await f.ids(), [a, b, c].sort());
  await assertCleanStore(t, f.store);
});

test('an index whose CURRENT names a missing MANIFEST is set aside and rebuilt too', async (t) => {
  const f = await fx(t);
  const a = await f.add('alpha');
  await fsp.writeFile(path.join(f.index, 'CURRENT'), 'MANIFEST-999999\n');
  t.deepEqual(await f.ids(), [a]);
  t.is(await f.resolve(a.slice(0, 12)), a);
  await assertCleanStore(t, f.store);
});
