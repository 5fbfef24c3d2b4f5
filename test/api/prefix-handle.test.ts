// The prefix handle's calling conventions (issue 10): refs as strings, ids or entry objects, one
// or a list, the same for prefix.activate and transaction().activate; prefix.exists(); and an
// AbortSignal that stops a transaction with EPSTORE_ABORTED, the prefix left exactly as before.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { isPstoreError, openStore, type ProgressEvent } from '../../lib/index.js';
import { entryNames, rejection } from '../_helpers/api.js';
import { tempDir } from '../_helpers/tmp.js';
import { listTree } from '../_helpers/txn-trees.js';

const names = entryNames;

async function smallStore(dir: string) {
  const store = openStore({ path: path.join(dir, 'store') });
  const add = (name: string, version: string) =>
    store.add({ files: [{ path: `share/${name}/v`, data: version }] }, { name, version });
  return { store, a: await add('a', '1'), b: await add('b', '1'), c: await add('c', '1') };
}

test('refs: a string, an id, an entry object; one or a list; prefix and transaction alike', async (t) => {
  const dir = await tempDir(t, 'refs');
  const { store, a, b, c } = await smallStore(dir);
  const prefix = store.prefix(path.join(dir, 'p'));
  t.false(await prefix.exists(), 'no prefix before the first activation');

  await prefix.activate(a); // an entry object, alone
  t.true(await prefix.exists());
  await prefix.activate([b.id.slice(0, 12), 'c@1']); // an id prefix and a string, in a list
  t.deepEqual(names((await prefix.status()).packages), ['a@1', 'b@1', 'c@1']);

  await prefix.deactivate('a'); // one name
  await prefix.transaction().deactivate(['b', 'c']).activate(a, [b]).commit();
  t.deepEqual(names((await prefix.status()).packages), ['a@1', 'b@1']);

  await prefix.sync(c);
  t.deepEqual(names((await prefix.status()).packages), ['c@1']);
  t.is(await fsp.readFile(path.join(prefix.dir, 'share/c/v'), 'utf8'), '1');
});

test('exists() is false for a missing directory and for a plain one', async (t) => {
  const dir = await tempDir(t, 'exists');
  const store = openStore({ path: path.join(dir, 'store') });
  t.false(await store.prefix(path.join(dir, 'missing')).exists());
  await fsp.mkdir(path.join(dir, 'plain'));
  t.false(await store.prefix(path.join(dir, 'plain')).exists());
});

test('a signal aborted before the call: EPSTORE_ABORTED, no prefix created', async (t) => {
  const dir = await tempDir(t, 'abort-before');
  const { store, a } = await smallStore(dir);
  const prefix = store.prefix(path.join(dir, 'p'));
  const controller = new AbortController();
  controller.abort(new Error('the user pressed ^C'));
  const err = await rejection(prefix.activate(a, { signal: controller.signal }));
  t.true(isPstoreError(err, 'EPSTORE_ABORTED'), String(err));
  if (isPstoreError(err)) t.is(err.subject, path.join(dir, 'p'));
  t.false(await prefix.exists());
  const err2 = await rejection(
    prefix.transaction().activate(a).commit({ signal: controller.signal }),
  );
  t.true(isPstoreError(err2, 'EPSTORE_ABORTED'), String(err2));
});

test('a signal that fires while files are placed: the transaction is rolled back', async (t) => {
  const dir = await tempDir(t, 'abort-during');
  const { store, a } = await smallStore(dir);
  // enough files that placing them reports progress (one event every 500 files)
  const files = Array.from({ length: 1500 }, (_, i) => ({ path: `lib/big/f${i}`, data: `${i}` }));
  const big = await store.add({ files }, { name: 'big', version: '1' });
  const prefix = store.prefix(path.join(dir, 'p'));
  await prefix.activate(a);
  const before = await listTree(prefix.dir);
  const statusBefore = await prefix.status();

  const controller = new AbortController();
  const seen: ProgressEvent[] = [];
  const err = await rejection(
    prefix.activate(big, {
      signal: controller.signal,
      onProgress: (e) => {
        seen.push(e);
        controller.abort();
      },
    }),
  );
  t.true(isPstoreError(err, 'EPSTORE_ABORTED'), String(err));
  t.is(seen.length, 1, 'the first progress event after the abort stops the transaction');
  t.deepEqual(await listTree(prefix.dir), before, 'the prefix is as it was');
  const after = await prefix.status();
  t.is(after.generation, statusBefore.generation);
  t.is(after.transaction, 'none', 'nothing left to recover');
  // and the prefix works on
  t.false((await prefix.activate(big)).noop);
});
