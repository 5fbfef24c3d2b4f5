// The ownership index a writer holds across its transactions (lib/txn/ownership/sync.ts,
// HeldOwnership), begun in the background for a new prefix (txn/run.ts makes its empty index while
// the store's index is opened): the next sync() takes the begun index over and checks it against
// the committed set it is given then; close() waits for a begun index nobody took over, so that
// nothing writes the index once the writer goes on (a failed new prefix removes it next, and a
// reader may open it once the lock is let go). Real LevelDB, real files.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { prefixPaths, type PrefixPaths } from '../../lib/prefix/layout.js';
import { createContext, type StoreContext } from '../../lib/store/context.js';
import { OwnershipDb } from '../../lib/txn/ownership/db.js';
import { indexMeta } from '../../lib/txn/ownership/entry.js';
import { HeldOwnership } from '../../lib/txn/ownership/sync.js';
import { tempDir } from '../_helpers/tmp.js';

const NOTHING = { generation: 0, packages: [] };

/** A new prefix's state directory (no index yet) and a store context (never read: empty sets). */
async function newPrefix(t: ExecutionContext): Promise<{ p: PrefixPaths; ctx: StoreContext }> {
  const dir = await tempDir(t, 'held');
  const p = prefixPaths(path.join(dir, 'prefix'), 'inplace');
  await fsp.mkdir(p.meta, { recursive: true });
  return { p, ctx: createContext({ path: path.join(dir, 'store') }) };
}

test('a begun index is the one the next sync() returns, describing the committed set', async (t) => {
  const { p, ctx } = await newPrefix(t);
  const held = new HeldOwnership();
  held.begin(ctx, p, NOTHING);
  const db = await held.sync(ctx, p, NOTHING);
  t.truthy(db);
  t.deepEqual(await db!.meta(), indexMeta(0, []));
  t.is(await held.sync(ctx, p, NOTHING), db, 'kept open for the next transaction');
  await held.close();
});

test('sync() checks a begun index against the committed set it is given, not the begun one', async (t) => {
  const { p, ctx } = await newPrefix(t);
  const held = new HeldOwnership();
  held.begin(ctx, p, NOTHING);
  const db = await held.sync(ctx, p, { generation: 3, packages: [] });
  t.deepEqual(await db!.meta(), indexMeta(3, []));
  await held.close();
});

test('close() with no sync() waits for the begun index and closes it: it opens again at once, whole', async (t) => {
  const { p, ctx } = await newPrefix(t);
  const held = new HeldOwnership();
  held.begin(ctx, p, NOTHING);
  await held.close();
  // Had close() not waited, the index would still be in the making (no CURRENT yet, or LevelDB's
  // lock still held by this process).
  const db = await OwnershipDb.open(p);
  t.truthy(db, 'the index is there');
  t.deepEqual(await db!.meta(), indexMeta(0, []));
  await db!.close();
});

/** A begun index that fails: the state directory is a file, so LevelDB cannot make it (ENOTDIR). */
async function failingBegin(t: ExecutionContext): Promise<{
  p: PrefixPaths;
  ctx: StoreContext;
  held: HeldOwnership;
}> {
  const { p, ctx } = await newPrefix(t);
  await fsp.rm(p.meta, { recursive: true });
  await fsp.writeFile(p.meta, 'in the way');
  const held = new HeldOwnership();
  held.begin(ctx, p, NOTHING);
  return { p, ctx, held };
}

test('close() after a begun index failed throws nothing; a later sync() makes the index afresh', async (t) => {
  const { p, ctx, held } = await failingBegin(t);
  await t.notThrowsAsync(() => held.close());
  await fsp.rm(p.meta);
  await fsp.mkdir(p.meta);
  const db = await held.sync(ctx, p, NOTHING);
  t.deepEqual(await db!.meta(), indexMeta(0, []));
  await held.close();
});

test('sync() throws what the begun index failed with', async (t) => {
  const { p, ctx, held } = await failingBegin(t);
  await t.throwsAsync(() => held.sync(ctx, p, NOTHING), { code: 'ENOTDIR' });
  await held.close();
});
