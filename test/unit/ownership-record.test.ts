// The ownership index's stored form (SPEC.md §Ownership index): one record per directory. A record
// reads back as the entries it was made from, whatever their kinds, units and owners; anything
// else is refused (undefined: the caller treats the index as damaged and rebuilds it).

import test from 'ava';
import type { OwnerEntry } from '../../lib/txn/ownership/entry.js';
import { encodeRecord, parseRecord, splitPath } from '../../lib/txn/ownership/record.js';

const INTEGRITY = `sha512-${'A'.repeat(86)}==`;

const children = new Map<string, OwnerEntry>([
  [
    'usr/lib/a.py',
    {
      file: { path: 'usr/lib/a.py', type: 'file', integrity: INTEGRITY, exec: false, size: 12 },
      owners: ['alpha'],
    },
  ],
  [
    'usr/lib/run',
    {
      file: { path: 'usr/lib/run', type: 'file', integrity: INTEGRITY, exec: true, size: 0 },
      owners: ['alpha'],
    },
  ],
  [
    'usr/lib/link',
    { file: { path: 'usr/lib/link', type: 'symlink', target: '../x y' }, owners: ['beta'] },
  ],
  [
    'usr/lib/shared',
    { file: { path: 'usr/lib/shared', type: 'dir' }, owners: ['alpha', 'beta', 'gamma'] },
  ],
  [
    'usr/lib/m.dist-info',
    {
      file: { path: 'usr/lib/m.dist-info', type: 'dir' },
      owners: ['m'],
      unit: 'usr/lib/m.dist-info',
    },
  ],
]);

test('a record reads back as the entries it was made from', (t) => {
  t.deepEqual(parseRecord(encodeRecord(children), 'usr/lib'), children);
});

test('top-level paths are filed under the empty directory', (t) => {
  t.deepEqual(splitPath('bin'), ['', 'bin']);
  t.deepEqual(splitPath('usr/lib/a.py'), ['usr/lib', 'a.py']);
  const top = new Map<string, OwnerEntry>([
    ['bin', { file: { path: 'bin', type: 'dir' }, owners: ['a'] }],
  ]);
  t.deepEqual(parseRecord(encodeRecord(top), ''), top);
});

test('a record that does not decode is refused', (t) => {
  const good = encodeRecord(new Map([...children].slice(0, 1)));
  const fields = good.split('\0');
  const bad = {
    'not a string': 42,
    empty: '',
    'unknown type': ['a.py', 'q', '', '1', 'alpha'].join('\0'),
    'owner count zero': [...fields.slice(0, -2), '0'].join('\0'),
    'owner count beyond the record': [...fields.slice(0, -2), '2', 'alpha'].join('\0'),
    'owner count not decimal': [...fields.slice(0, -2), 'x', 'alpha'].join('\0'),
    'an empty owner': [...fields.slice(0, -1), ''].join('\0'),
    'size not decimal': fields.map((f, i) => (i === 5 ? '1e3' : f)).join('\0'),
    'exec not x or empty': fields.map((f, i) => (i === 4 ? 'y' : f)).join('\0'),
    'a missing field': fields.slice(0, 3).join('\0'),
  };
  for (const [what, value] of Object.entries(bad))
    t.is(parseRecord(value, 'usr/lib'), undefined, what);
});
