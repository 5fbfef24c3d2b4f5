// `pstore du` (alias `stats`, issue 10): store size, objects, entries, the bytes entries share
// through deduplication and those hard links save, and per registered prefix how many of its
// files are links to the store. `--json` prints the library's StoreUsage as it is (so the type is
// imported); the numbers are checked against what the test put in, not against lib/gc/usage.ts.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type { StoreUsage as Usage } from '../../lib/index.js';
import { jsonOut } from '../_helpers/cli.js';
import { storeWorkspace } from '../_helpers/store.js';
import { buildTree } from '../_helpers/tree.js';

const SHARED = 'shared bytes, 22 long\n'; // 22 bytes, in both entries
const ONLY_B = 'b only\n'; // 7 bytes

test('du: objects, entries, bytes shared by dedup and saved by hard links, links per prefix', async (t) => {
  const { dir, store, ok } = await storeWorkspace(t, 'du');
  // the same bytes at two paths: one object
  const a = await buildTree(path.join(dir, 'a'), { 'share/a.txt': SHARED });
  const b = await buildTree(path.join(dir, 'b'), { 'share/b.txt': SHARED, 'bin/b': ONLY_B });
  await ok(['add', a, '--name', 'a', '--version', '1']);
  await ok(['add', b, '--name', 'b', '--version', '1']);

  const empty = jsonOut<Usage>(await ok(['du', '--json']));
  t.like(empty, {
    store,
    objects: 2,
    objectBytes: SHARED.length + ONLY_B.length,
    entries: 2,
    entryBytes: 2 * SHARED.length + ONLY_B.length,
    sharedBytes: SHARED.length,
    linkedBytes: 0,
    prefixes: [],
  });
  t.true(empty.bytes >= empty.objectBytes, 'the store holds at least its objects');

  const linked = path.join(dir, 'linked');
  const copied = path.join(dir, 'copied');
  await ok(['activate', 'a@1', 'b@1', '--prefix', linked, '--link', 'hardlink']);
  await ok(['activate', 'b@1', '--prefix', copied, '--link', 'copy']);
  const u = jsonOut<Usage>(await ok(['du', '--json']));
  // `linked` holds two links to the shared object (share/a.txt, share/b.txt) and one to bin/b's
  t.is(u.linkedBytes, 2 * SHARED.length + ONLY_B.length, 'size × extra links, per object');
  t.deepEqual(
    u.prefixes.map((p) => [
      path.basename(p.dir),
      p.generation,
      p.packages,
      p.files,
      p.linked,
      p.copied,
      p.missing,
    ]),
    [
      ['copied', 1, 1, 2, 0, 2, 0],
      ['linked', 1, 2, 3, 3, 0, 0],
    ],
  );

  await fsp.rm(path.join(copied, 'bin', 'b'));
  const after = jsonOut<Usage>(await ok(['stats', '--json']));
  t.like(
    after.prefixes[0],
    { files: 2, copied: 1, missing: 1 },
    'stats is du; a removed file is missing',
  );

  const human = await ok(['du']);
  t.regex(human.stdout, /^objects +2 objects +29 B$/m);
  t.regex(human.stdout, /^entries +2 entries +51 B$/m);
  t.regex(human.stdout, /^shared by dedup +22 B$/m);
  t.regex(human.stdout, /^ {2}\S+linked +generation 1 +2 packages +3\/3 files linked$/m);
  t.is((await ok(['du', '--quiet'])).stdout, '');
});
