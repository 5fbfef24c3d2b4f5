// lib/core/safe-path.ts and tree.ts: the fail-closed path policy and the rules every ingested tree
// obeys (SPEC.md §Path policy, §Ingest). Every refusal is a typed error naming the member.

import test from 'ava';
import {
  MAX_DEPTH,
  MAX_NAME_BYTES,
  MAX_PATH_BYTES,
  ancestors,
  normalizeMemberPath,
  shortened,
} from '../../lib/core/safe-path.js';
import { TreeCollector } from '../../lib/core/tree.js';
import { refuses } from '../_helpers/errors.js';
import { mdir, mfile, mlink } from '../_helpers/manifests.js';

test('member paths are normalized: ./ and empty parts dropped, the root is empty', (t) => {
  t.is(normalizeMemberPath('./usr//bin/./tool'), 'usr/bin/tool');
  t.is(normalizeMemberPath('usr/lib/'), 'usr/lib');
  t.is(normalizeMemberPath('./'), '');
  t.is(normalizeMemberPath('.'), '');
  t.is(normalizeMemberPath('a..b/..c/d..'), 'a..b/..c/d..', 'dots inside names are names');
});

test('paths that could land outside the root are refused, never clamped', (t) => {
  for (const bad of [
    '../etc/passwd',
    'usr/../../etc',
    'a/b/..',
    '/etc/passwd',
    'C:/Windows',
    'c:\\x',
    'a\0b',
    'caf\uFFFD',
  ]) {
    refuses(t, () => normalizeMemberPath(bad), 'EPSTORE_UNSAFE_PATH', bad);
  }
});

test('Linux limits: a name over NAME_MAX, a path over PATH_MAX, a tree deeper than the cap', (t) => {
  const longest = 'n'.repeat(MAX_NAME_BYTES);
  t.is(normalizeMemberPath(`d/${longest}`), `d/${longest}`);
  refuses(t, () => normalizeMemberPath(`d/${longest}n`), 'EPSTORE_UNSAFE_PATH', `d/${longest}n`);
  // bytes, not characters: 128 two-byte characters are 256 bytes
  const wide = 'é'.repeat(128);
  refuses(t, () => normalizeMemberPath(wide), 'EPSTORE_UNSAFE_PATH', wide);

  const deep = Array.from({ length: MAX_DEPTH }, () => 'd').join('/');
  t.is(normalizeMemberPath(deep), deep);
  refuses(t, () => normalizeMemberPath(`${deep}/d`), 'EPSTORE_UNSAFE_PATH', `${deep}/d`);

  const names = Array.from({ length: 16 }, () => 'x'.repeat(MAX_NAME_BYTES - 1));
  const long = names.join('/'); // 16 * 255 - 1 = 4079 bytes
  t.is(normalizeMemberPath(long), long);
  const tooLong = `${long}/${'y'.repeat(MAX_PATH_BYTES - long.length)}`;
  t.is(Buffer.byteLength(tooLong), MAX_PATH_BYTES + 1);
  refuses(t, () => normalizeMemberPath(tooLong), 'EPSTORE_UNSAFE_PATH', tooLong);
});

test('ancestors lists proper ancestors, outermost first; shortened keeps messages to one line', (t) => {
  t.deepEqual(ancestors('a/b/c'), ['a', 'a/b']);
  t.deepEqual(ancestors('top'), []);
  const p = 'x'.repeat(5000);
  t.is(shortened('short'), 'short');
  t.true(shortened(p).length < 200);
  t.true(shortened(p).includes('5000 bytes'));
});

test('a tree collector adds the parents a tar omits, and accepts a repeat that means the same thing', (t) => {
  const tree = new TreeCollector('test.tar');
  tree.add(mfile('usr/bin/tool', 'x', true));
  tree.add(mfile('usr/bin/tool', 'x', true));
  tree.add(mdir('usr'));
  t.deepEqual(
    tree
      .files()
      .map((f) => `${f.type} ${f.path}`)
      .sort(),
    ['dir usr', 'dir usr/bin', 'file usr/bin/tool'],
  );
  t.is(tree.size, 3);
});

test('a tree collector refuses what would make the tree ambiguous or escape through a symlink', (t) => {
  const tree = new TreeCollector('test.tar');
  tree.add(mlink('lib', '/etc'));
  tree.add(mfile('data', 'bytes'));
  // below a symlink of the same tree: could be written outside the prefix
  refuses(t, () => tree.add(mfile('lib/passwd')), 'EPSTORE_UNSAFE_PATH', 'lib/passwd');
  refuses(t, () => tree.checkPlace('lib/x/y'), 'EPSTORE_UNSAFE_PATH', 'lib/x/y');
  // below a regular file, and twice as different things
  refuses(t, () => tree.add(mfile('data/inner')), 'EPSTORE_BAD_ARCHIVE', 'data/inner');
  refuses(t, () => tree.add(mfile('data', 'other bytes')), 'EPSTORE_BAD_ARCHIVE', 'data');
  refuses(t, () => tree.add(mdir('data')), 'EPSTORE_BAD_ARCHIVE', 'data');
  refuses(t, () => tree.add(mlink('lib', '/usr')), 'EPSTORE_BAD_ARCHIVE', 'lib');
  // pstore's reserved names, at any depth
  refuses(t, () => tree.add(mfile('.pstore/x')), 'EPSTORE_UNSAFE_PATH', '.pstore/x');
  refuses(t, () => tree.add(mfile('a/.pstore-tmp-1')), 'EPSTORE_UNSAFE_PATH', 'a/.pstore-tmp-1');
  // symlinks must be placeable
  refuses(t, () => tree.add(mlink('empty', '')), 'EPSTORE_BAD_ARCHIVE', 'empty');
  refuses(t, () => tree.add(mlink('nul', 'a\0b')), 'EPSTORE_BAD_ARCHIVE', 'nul');
  // the root itself is only ever a directory
  refuses(t, () => tree.add(mfile('')), 'EPSTORE_UNSAFE_PATH', '.');
  t.is(tree.size, 2, 'nothing refused was added');
});
