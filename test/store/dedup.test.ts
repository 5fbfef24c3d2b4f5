// One object per distinct (bytes, exec bit), across entries and within one entry.

import path from 'node:path';
import test from 'ava';
import { describe, jsonOut, storeCli } from '../_helpers/cli.js';
import { objectFiles, objectPathOf } from '../_helpers/store.js';
import { buildTree, file, sha512Integrity, symlink } from '../_helpers/tree.js';
import { tempDir, tempStore } from '../_helpers/tmp.js';
import { promises as fsp } from 'node:fs';

const shared = Object.fromEntries(
  Array.from({ length: 20 }, (_, i) => [`share/common/f${i}.txt`, `common file ${i}\n`]),
);

test('two entries sharing files store each object once', async (t) => {
  const dir = await tempDir(t, 'dedup');
  const a = await buildTree(path.join(dir, 'a'), {
    ...shared,
    'bin/a': file('#!/bin/sh\necho a\n', 0o755),
    'a-only.txt': 'only in a\n',
  });
  const b = await buildTree(path.join(dir, 'b'), {
    ...shared,
    // the same bytes at other paths, and twice within b
    'other/place/f0.txt': 'common file 0\n',
    'other/place/f0-again.txt': 'common file 0\n',
    'b-only.txt': 'only in b\n',
    link: symlink('share/common/f1.txt'),
  });
  const store = await tempStore(t);
  const cli = storeCli(store);

  const ra = await cli(['add', a, '--name', 'a', '--version', '1', '--json']);
  t.is(ra.code, 0, describe(ra));
  t.like(jsonOut(ra), { files: 22, objectsWritten: 22 });
  t.is((await objectFiles(store)).length, 22);

  const rb = await cli(['add', b, '--name', 'b', '--version', '1', '--json']);
  t.is(rb.code, 0, describe(rb));
  t.like(jsonOut(rb), { files: 23, objectsWritten: 1 }, 'only b-only.txt is new');
  const objects = await objectFiles(store);
  t.is(objects.length, 23, '20 shared + bin/a + a-only + b-only');
  t.is(new Set(objects.map((o) => o.key)).size, objects.length);

  const verify = await cli(['verify', '--json']);
  t.is(verify.code, 0, describe(verify));
  t.like(jsonOut(verify), { ok: true, entries: 2, objects: 23 });
});

test('an executable and a non-executable copy of the same bytes are two objects', async (t) => {
  const bytes = '#!/bin/sh\necho same bytes\n';
  const src = await buildTree(path.join(await tempDir(t, 'exec'), 'src'), {
    'bin/run': file(bytes, 0o755),
    'share/run.txt': file(bytes, 0o644),
    'share/run-copy.txt': file(bytes, 0o600),
  });
  const store = await tempStore(t);
  const r = await storeCli(store)(['add', src, '--name', 'x', '--version', '1', '--json']);
  t.is(r.code, 0, describe(r));
  t.like(jsonOut(r), { files: 3, objectsWritten: 2 });

  const integrity = sha512Integrity(Buffer.from(bytes));
  const objects = await objectFiles(store);
  t.deepEqual(
    objects.map((o) => o.file).sort(),
    [
      objectPathOf(store, { integrity, exec: false }),
      objectPathOf(store, { integrity, exec: true }),
    ].sort(),
  );
  t.is((await fsp.stat(objectPathOf(store, { integrity, exec: true }))).mode & 0o777, 0o555);
  t.is((await fsp.stat(objectPathOf(store, { integrity, exec: false }))).mode & 0o777, 0o444);
  t.true(objects.some((o) => o.key.endsWith('-x')));
});
