// lib/core/ref.ts, package-ref.ts and object-key.ts: the grammar of NAME@VERSION refs, the schema
// every stored package list passes, and object keys (SPEC.md §Refs, §Prefix state, §Objects).

import test from 'ava';
import { createHash } from 'node:crypto';
import * as v from 'valibot';
import { fileObjectKey, hexOf, objectKey, parseObjectKey } from '../../lib/core/object-key.js';
import { PackageListSchema, sortPackages } from '../../lib/core/package-ref.js';
import { splitRef } from '../../lib/core/ref.js';
import { fakeId, mfile } from '../_helpers/manifests.js';

test('NAME@VERSION splits at the first @ after the first character', (t) => {
  t.deepEqual(splitRef('cython@0.29.32'), { name: 'cython', version: '0.29.32' });
  t.deepEqual(splitRef('cython'), { name: 'cython' });
  t.deepEqual(splitRef('@scope/pkg@1.0'), { name: '@scope/pkg', version: '1.0' });
  t.deepEqual(splitRef('@scope/pkg'), { name: '@scope/pkg' });
  t.deepEqual(splitRef('numpy@1:1.24.2-1+deb12u1'), {
    name: 'numpy',
    version: '1:1.24.2-1+deb12u1',
  });
  t.deepEqual(splitRef('a@b@c'), { name: 'a', version: 'b@c' });
  t.deepEqual(splitRef('pkg@'), { name: 'pkg', version: '' });
});

test('a package list read from disk names each entry by 40 lowercase hex digits', (t) => {
  const ok = { name: 'a', version: '1', id: fakeId('a') };
  t.true(v.safeParse(PackageListSchema, [ok]).success);
  for (const bad of [
    { ...ok, id: fakeId('a').toUpperCase() },
    { ...ok, id: fakeId('a').slice(1) },
    { ...ok, id: `../${fakeId('a').slice(3)}` },
    { ...ok, name: '' },
    { ...ok, version: '' },
    { name: 'a', version: '1' },
  ])
    t.false(v.safeParse(PackageListSchema, [ok, bad]).success, JSON.stringify(bad));
  t.deepEqual(
    sortPackages([
      { ...ok, name: 'b' },
      { ...ok, name: 'B' },
      { ...ok, name: 'a' },
    ]).map((p) => p.name),
    ['B', 'a', 'b'],
  );
});

test('an object key is the sha512 hex of the bytes, -x when executable', (t) => {
  const hex = createHash('sha512').update('bytes').digest('hex');
  const f = mfile('bin/x', 'bytes', true);
  t.is(hexOf(f.type === 'file' ? f.integrity : ''), hex);
  t.is(objectKey(hex, false), hex);
  t.is(objectKey(hex, true), `${hex}-x`);
  t.deepEqual(parseObjectKey(`${hex}-x`), { hex, exec: true });
  t.deepEqual(parseObjectKey(hex), { hex, exec: false });
  t.is(fileObjectKey(f as { integrity: string; exec: boolean }), `${hex}-x`);
});
