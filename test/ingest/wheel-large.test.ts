// A wheel larger than the in-memory bound (64 MiB) is read member by member as a stream: it
// installs the same, and its RECORD is checked the same.

import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { describe, jsonOut, storeCli } from '../_helpers/cli.js';
import { objectPathOf } from '../_helpers/store.js';
import { tempDir } from '../_helpers/tmp.js';
import { sha512Integrity } from '../_helpers/tree.js';
import { buildWheel } from '../_helpers/wheels.js';

test('a wheel over 64 MiB is streamed: installed whole, its large member intact', async (t) => {
  const dir = await tempDir(t, 'large-wheel');
  const blob = randomBytes(65 * 1024 * 1024); // incompressible: the zip itself exceeds the bound
  const wheel = buildWheel(dir, {
    name: 'big',
    version: '1',
    files: { 'big/__init__.py': 'X = 1\n', 'big/blob.bin': blob },
  });
  t.true((await fsp.stat(wheel)).size > 64 * 1024 * 1024);
  const store = path.join(dir, 'store');
  const r = await storeCli(store)(['add', wheel, '--json']);
  t.is(r.code, 0, describe(r));
  t.like(jsonOut(r), { name: 'big', version: '1' });
  const object = objectPathOf(store, { integrity: sha512Integrity(blob), exec: false });
  t.true((await fsp.readFile(object)).equals(blob));
});
