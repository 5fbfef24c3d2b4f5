// A transaction opens the store's index only to resolve refs (SPEC.md §Step order 6): a sync to
// the set the prefix already holds and a deactivation by name resolve none, and an index open is
// not free (LevelDB compacts and flushes its log, and starts a new LOG file each time: what this
// test watches). An activation, which resolves its ref, opens it: the check sees an open.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { storeWorkspace } from '../_helpers/store.js';
import { buildTree } from '../_helpers/tree.js';

test('a no-op sync and a deactivation by name open no store index; an activation does', async (t) => {
  const { dir, store, prefix, ok: must } = await storeWorkspace(t, 'index-unopened');
  await must([
    'add',
    await buildTree(path.join(dir, 'a'), { 'share/a': 'a\n' }),
    '--name',
    'a',
    '--version',
    '1',
  ]);
  await must(['activate', 'a@1', '--prefix', prefix, '-q']);
  const lockFile = path.join(dir, 'pstore.lock');
  await fsp.writeFile(lockFile, (await must(['lock', '--prefix', prefix])).stdout);
  const log = path.join(store, 'index-v1', 'LOG');
  const opened = async (args: string[]) => {
    const before = await fsp.stat(log);
    const r = await must(args);
    const after = await fsp.stat(log);
    return { r, opened: after.ino !== before.ino || after.mtimeMs !== before.mtimeMs };
  };
  const sync = await opened(['sync', lockFile, '--prefix', prefix, '--json']);
  t.like(JSON.parse(sync.r.stdout), { noop: true });
  t.false(sync.opened, 'the no-op sync opened the store index');
  t.false((await opened(['deactivate', 'a', '--prefix', prefix, '-q'])).opened, 'deactivate');
  t.true(
    (await opened(['activate', 'a@1', '--prefix', prefix, '-q'])).opened,
    'the check sees an open',
  );
});
