// An AbortSignal on the store's long operations (issue 10): add, verify, export and import stop
// with EPSTORE_ABORTED, whether the signal fired before the call or while the work was under way,
// and leave nothing half done: no entry recorded, no bundle file, no imported entry.

import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import test from 'ava';
import { isPstoreError, openStore } from '../../lib/index.js';
import { rejection } from '../_helpers/api.js';
import { tempDir } from '../_helpers/tmp.js';
import { buildTree, manyFiles } from '../_helpers/tree.js';

const aborted = (): AbortSignal => AbortSignal.abort(new Error('stop'));

test('a signal that has fired: add, verify, export and import refuse at once', async (t) => {
  const dir = await tempDir(t, 'aborted');
  const store = openStore({ path: path.join(dir, 'store') });
  const one = await store.add({ files: [{ path: 'a', data: 'a' }] }, { name: 'one', version: '1' });
  const calls: Array<[string, Promise<unknown>]> = [
    [
      'add',
      store.add(
        { files: [{ path: 'b', data: 'b' }] },
        {
          name: 'two',
          version: '1',
          signal: aborted(),
        },
      ),
    ],
    ['verify', store.verify({ signal: aborted() })],
    ['export', store.export(one, path.join(dir, 'b.pstore'), { signal: aborted() })],
  ];
  for (const [what, call] of calls) {
    const err = await rejection(call);
    t.true(isPstoreError(err, 'EPSTORE_ABORTED'), `${what}: ${String(err)}`);
  }
  t.deepEqual(
    (await store.list()).map((e) => e.name),
    ['one'],
  );
  t.false(existsSync(path.join(dir, 'b.pstore')), 'no bundle file');
  await store.export([one], path.join(dir, 'b.pstore'));
  const target = openStore({ path: path.join(dir, 'target') });
  const err = await rejection(target.import(path.join(dir, 'b.pstore'), { signal: aborted() }));
  t.true(isPstoreError(err, 'EPSTORE_ABORTED'), String(err));
  t.deepEqual(await target.list(), []);
});

test('add aborted while it hashes a directory: no entry is recorded', async (t) => {
  const dir = await tempDir(t, 'abort-add');
  const src = await buildTree(path.join(dir, 'src'), manyFiles(2000));
  const store = openStore({ path: path.join(dir, 'store') });
  const controller = new AbortController();
  const err = await rejection(
    store.add(src, {
      name: 'big',
      version: '1',
      signal: controller.signal,
      onProgress: () => controller.abort(),
    }),
  );
  t.true(isPstoreError(err, 'EPSTORE_ABORTED'), String(err));
  if (isPstoreError(err)) t.is(err.subject, 'big@1');
  t.deepEqual(await store.list(), []);
});

test('import aborted while the bundle streams in: the target store records nothing', async (t) => {
  const dir = await tempDir(t, 'abort-import');
  const store = openStore({ path: path.join(dir, 'store') });
  const files = Array.from({ length: 200 }, (_, i) => ({ path: `f${i}`, data: `${i}` }));
  const e = await store.add({ files }, { name: 'many', version: '1' });
  const bundle = path.join(dir, 'b.pstore');
  await store.export([e], bundle);
  const bytes = await fsp.readFile(bundle);
  const controller = new AbortController();
  // The first 64 KiB arrive, then the signal fires: later members must not be read.
  async function* chunks() {
    for (let at = 0; at < bytes.length; at += 65536) {
      yield bytes.subarray(at, at + 65536);
      controller.abort();
    }
  }
  const target = openStore({ path: path.join(dir, 'target') });
  const err = await rejection(
    target.import(Readable.from(chunks()), { signal: controller.signal }),
  );
  t.true(isPstoreError(err, 'EPSTORE_ABORTED'), String(err));
  t.deepEqual(await target.list(), []);
  // and the same bundle imports whole afterwards
  t.is((await target.import(bundle)).entries.length, 1);
});
