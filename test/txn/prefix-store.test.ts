// A prefix belongs to the store its first writer named (SPEC.md §Prefix layout, creation steps 2
// and 3): prefix.json records that store's root, and a writer naming another store is refused,
// EPSTORE_CONFLICT (exit 3) naming the prefix, with nothing changed, whichever store holds the
// refs. The store a symlink names is the same store.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { describe, jsonOut, storeCli } from '../_helpers/cli.js';
import { snapshotDir } from '../_helpers/snapshot.js';
import { tempDir } from '../_helpers/tmp.js';
import { buildTree } from '../_helpers/tree.js';
import { jsonError, listTree } from '../_helpers/txn-trees.js';

/** Two stores holding the same package `tool@1`, and a prefix path not made yet. */
async function twoStores(t: ExecutionContext) {
  const dir = await tempDir(t, 'prefix-store');
  const src = await buildTree(path.join(dir, 'src'), { 'bin/tool': 'tool\n' });
  const stores = [path.join(dir, 'a'), path.join(dir, 'b')] as const;
  for (const store of stores) {
    const r = await storeCli(store)(['add', src, '--name', 'tool', '--version', '1']);
    t.is(r.code, 0, describe(r));
  }
  return { dir, stores, prefix: path.join(dir, 'prefix') };
}

test('the first writer records its store; a writer naming another store is refused and changes nothing', async (t) => {
  const { stores, prefix } = await twoStores(t);
  const [a, b] = stores;
  const first = await storeCli(a)(['activate', 'tool@1', '--prefix', prefix, '--json']);
  t.is(first.code, 0, describe(first));
  const record = JSON.parse(
    await fsp.readFile(path.join(prefix, '.pstore', 'prefix.json'), 'utf8'),
  );
  t.is(record.store, a);
  const before = {
    tree: await listTree(prefix),
    state: await snapshotDir(path.join(prefix, '.pstore')),
  };
  const other = await storeCli(b)(['deactivate', 'tool', '--prefix', prefix, '--json']);
  t.is(other.code, 3, describe(other));
  t.is(jsonError(other).code, 'EPSTORE_CONFLICT');
  t.regex(jsonError(other).message, /is managed with the store/);
  t.deepEqual(
    { tree: await listTree(prefix), state: await snapshotDir(path.join(prefix, '.pstore')) },
    before,
  );
});

test('the recorded store reached through a symlink is the same store', async (t) => {
  const { dir, stores, prefix } = await twoStores(t);
  const [a] = stores;
  const link = path.join(dir, 'a-link');
  await fsp.symlink(a, link);
  t.is((await storeCli(link)(['activate', 'tool@1', '--prefix', prefix])).code, 0);
  const r = await storeCli(a)(['deactivate', 'tool', '--prefix', prefix, '--json']);
  t.is(r.code, 0, describe(r));
  t.is(jsonOut<{ deactivated: unknown[] }>(r).deactivated.length, 1);
});
