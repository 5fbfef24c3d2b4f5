// lib/core/manifest.ts: the canonical form and entry id (SPEC.md §Manifest, §Entry id), checked
// against bytes and hashes written out independently here.

import test from 'ava';
import { createHash } from 'node:crypto';
import {
  ENTRY_ID_LENGTH,
  buildManifest,
  comparePaths,
  identifyManifest,
  parseManifest,
  serializeManifest,
  summarizeManifest,
} from '../../lib/core/manifest.js';
import type { Manifest } from '../../lib/core/types.js';
import { refuses } from '../_helpers/errors.js';
import { integrityOf, mdir, mfile, mlink } from '../_helpers/manifests.js';

const files = [mfile('b/z.txt', 'z'), mlink('a', 'b'), mdir('b'), mfile('b/é', 'e', true)];

test('the canonical form: fixed key order, no whitespace, paths in UTF-8 byte order, markers sorted once', (t) => {
  const m = buildManifest('pkg', '1.0', ['**/*.pc', '**/*.dist-info', '**/*.pc'], files);
  const expected =
    '{"formatVersion":1,"name":"pkg","version":"1.0","markers":["**/*.dist-info","**/*.pc"],"files":[' +
    '{"path":"a","type":"symlink","target":"b"},' +
    '{"path":"b","type":"dir"},' +
    `{"path":"b/z.txt","type":"file","exec":false,"size":1,"integrity":"${integrityOf('z')}"},` +
    `{"path":"b/é","type":"file","exec":true,"size":1,"integrity":"${integrityOf('e')}"}]}`;
  t.is(serializeManifest(m), expected);
  t.is(serializeManifest(m, true), expected);
  // UTF-8 byte order, not UTF-16 code-unit order: U+FF5E (3 bytes, EF BD 9E) sorts before
  // U+1F600 (4 bytes, F0 ...), though its UTF-16 unit 0xFF5E sorts after the surrogate 0xD83D
  t.true(comparePaths('\uFF5E', '\u{1F600}') < 0);
  t.true('\uFF5E' > '\u{1F600}');
});

test('the id is the first 40 hex digits of the sha512 of the canonical bytes; key order in the input does not matter', (t) => {
  const m = buildManifest('pkg', '1.0', [], files);
  const bytes = serializeManifest(m);
  const digest = createHash('sha512').update(bytes).digest();
  const id = identifyManifest(m);
  t.is(id.id, digest.toString('hex').slice(0, ENTRY_ID_LENGTH));
  t.is(id.integrity, `sha512-${digest.toString('base64')}`);
  t.is(id.bytes, bytes);
  // the same content described with keys in another order and files shuffled: the same id
  const shuffled = {
    files: [...m.files].reverse().map((f) => Object.fromEntries(Object.entries(f).reverse())),
    markers: [],
    version: '1.0',
    name: 'pkg',
    formatVersion: 1,
  } as unknown as Manifest;
  t.is(identifyManifest(shuffled).id, id.id);
  // and any change of content, name, version, markers or mode changes it
  for (const other of [
    buildManifest('pkg2', '1.0', [], files),
    buildManifest('pkg', '1.1', [], files),
    buildManifest('pkg', '1.0', ['x'], files),
    buildManifest('pkg', '1.0', [], [...files.slice(0, 3), mfile('b/é', 'e', false)]),
  ])
    t.not(identifyManifest(other).id, id.id);
});

test('parseManifest accepts exactly the canonical bytes of the id', (t) => {
  const m = buildManifest('pkg', '1.0', [], files);
  const { id, bytes } = identifyManifest(m);
  t.deepEqual(parseManifest(bytes, id), m);

  const refuse = (text: string, expectedId = id) => {
    refuses(t, () => parseManifest(text, expectedId), 'EPSTORE_INTEGRITY', expectedId);
  };
  refuse('not json');
  refuse('null');
  refuse(JSON.stringify({ ...m, formatVersion: 2 }));
  refuse(JSON.stringify(m, null, 1), id); // same content, not canonical
  refuse(bytes, '0'.repeat(40)); // canonical but another id
});

test('parseManifest refuses every way JSON of the same content can differ from the canonical bytes', (t) => {
  const m = buildManifest('pkg', '1.0', ['**/*.pc', '**/*.dist-info'], files);
  const { id } = identifyManifest(m);
  const swapped = (i: number, j: number) => {
    const list = [...m.files];
    [list[i], list[j]] = [list[j]!, list[i]!];
    return list;
  };
  const variants: Record<string, unknown> = {
    'top-level keys in another order': Object.fromEntries(Object.entries(m).reverse()),
    'an extra top-level key': { ...m, extra: 1 },
    'markers unsorted': { ...m, markers: [...m.markers].reverse() },
    'a marker twice': { ...m, markers: [m.markers[0], ...m.markers] },
    'a marker that is not a string': { ...m, markers: [1] },
    'files unsorted': { ...m, files: swapped(0, 1) },
    'a file with keys in another order': {
      ...m,
      files: m.files.map((f) => Object.fromEntries(Object.entries(f).reverse())),
    },
    'a file with an extra key': { ...m, files: [{ ...m.files[0], mode: 1 }, ...m.files.slice(1)] },
    'a file of an unknown type': { ...m, files: [{ path: 'a', type: 'fifo' }] },
    'a path that is not a string': { ...m, files: [{ path: 1, type: 'dir' }] },
  };
  for (const [what, value] of Object.entries(variants)) {
    const err = t.throws(() => parseManifest(JSON.stringify(value), id), undefined, what);
    t.is((err as { code?: string }).code, 'EPSTORE_INTEGRITY', what);
  }
  // UTF-8 byte order: U+FF5E before U+1F600, though UTF-16 sorts them the other way
  const utf8 = buildManifest('pkg', '1.0', [], [mfile('\uFF5E'), mfile('\u{1F600}')]);
  const ok = identifyManifest(utf8);
  t.deepEqual(parseManifest(ok.bytes, ok.id), utf8);
  const utf16 = { ...utf8, files: [...utf8.files].reverse() };
  t.throws(() => parseManifest(JSON.stringify(utf16), ok.id));
});

test('parseManifest applies the tree rules to manifests from outside (a bundle), unless trusted', (t) => {
  const hostile = (list: Manifest['files']) => {
    const m: Manifest = { formatVersion: 1, name: 'evil', version: '1', markers: [], files: list };
    return identifyManifest(m);
  };
  for (const list of [
    [mfile('../outside')],
    [mfile('/etc/passwd')],
    [mdir('a'), mfile('a/./b')],
    [mfile('a/b')], // parent not listed
    [mfile('.pstore')],
    [mlink('l', '/'), mfile('l/x')],
    [{ ...mfile('f'), size: -1 }],
    [{ ...mfile('f'), integrity: 'sha1-abc' }],
  ] as Manifest['files'][]) {
    const { id, bytes } = hostile(list);
    refuses(t, () => parseManifest(bytes, id), 'EPSTORE_INTEGRITY', id);
  }
  const { id, bytes } = hostile([mfile('a/b')]);
  t.notThrows(() => parseManifest(bytes, id, { trustedTree: true }));
});

test('summarizeManifest counts by type and sums file sizes', (t) => {
  t.deepEqual(summarizeManifest(buildManifest('p', '1', [], files)), {
    files: 2,
    dirs: 1,
    symlinks: 1,
    bytes: 2,
  });
});
