// The ownership index under crashes and damage (SPEC.md §Ownership index). The CLI is SIGKILLed at
// every crash point of a transaction (and between commit and the index batch, and in a rebuild
// before its rename); after the reading command that recovers and the next transaction, the index
// equals one derived from the manifests of the committed generation (read here straight from the
// store's manifest files). Before that next transaction it is never damaged, only behind at most.
// A missing, damaged or behind index is rebuilt or caught up; a tampered one is reported by
// `verify --prefix` (exit 4) and rebuilt by `verify --prefix --repair`.
//
// The starting generation (alpha@1.0 beta@1.0) is activated once per layout through the library
// and copied into each test. The default run kills at every point at least once over the two
// layouts; PSTORE_TORTURE=1 at every point in both.

import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { openStore } from '../../lib/index.js';
import { prefixPaths } from '../../lib/prefix/layout.js';
import { readCurrent, readCurrentGeneration } from '../../lib/prefix/state.js';
import { storeLayout } from '../../lib/store/layout.js';
import { readManifestFile } from '../../lib/store/manifests.js';
import { OwnershipDb, ownershipDir } from '../../lib/txn/ownership/db.js';
import { deriveEntries, sameEntry, setDigest } from '../../lib/txn/ownership/entry.js';
import { describe, jsonOut, storeCli } from '../_helpers/cli.js';
import { addWithStore, castPackage } from '../_helpers/prefix-fixtures.js';
import { copyPrefixTemplate } from '../_helpers/templates.js';
import { exists, jsonError } from '../_helpers/txn-trees.js';
import { makeTemp, removeTree, tempDir } from '../_helpers/tmp.js';
import { casesFor } from '../_helpers/torture.js';

let storeRoot: string;
let store: string;

test.before(async () => {
  storeRoot = await makeTemp('ownership-store');
  store = path.join(storeRoot, 'store');
  const s = openStore({ path: store });
  for (const [name, version] of [
    ['alpha', '1.0'],
    ['alpha', '2.0'],
    ['beta', '1.0'],
    ['delta', '1.0'],
    ['gamma', '1.0'],
  ] as const)
    await addWithStore(s, storeRoot, castPackage(name, version, 10));
  for (const layout of LAYOUTS) {
    const tpl = path.join(storeRoot, `start-${layout}`);
    await s.prefix(path.join(tpl, 'prefix'), { layout }).activate(['alpha@1.0', 'beta@1.0']);
    startTemplates.set(layout, tpl);
  }
});

const LAYOUTS = ['inplace', 'generations'] as const;
/** per layout: a folder holding `prefix`, alpha@1.0 and beta@1.0 active (generation 1) */
const startTemplates = new Map<Layout, string>();

/** A copy of the starting prefix in a new temporary folder. */
async function startingPrefix(t: ExecutionContext, layout: Layout): Promise<string> {
  return copyPrefixTemplate(startTemplates.get(layout)!, await tempDir(t, 'own'), layout);
}

test.after.always(async () => {
  await removeTree(storeRoot);
});

type Layout = 'inplace' | 'generations';
type IndexState = 'ok' | 'missing' | 'behind' | 'damaged' | 'unchecked';

/** The index equals one derived from the committed generation's manifest files. */
async function assertIndexIsRebuild(t: ExecutionContext, prefix: string, layout: Layout) {
  const p = prefixPaths(prefix, layout);
  const cur = await readCurrent(p);
  const refs = (await readCurrentGeneration(p, cur)).packages;
  const manifests = await Promise.all(
    refs.map(async (ref) => ({
      ref,
      manifest: await readManifestFile(storeLayout(store), ref.id),
    })),
  );
  const want = deriveEntries(manifests);
  const db = await OwnershipDb.open(p);
  if (!db) return t.fail(`${prefix}: no ownership index`);
  try {
    const meta = await db.meta();
    t.is(meta.digest, setDigest(refs), 'the index describes the committed set');
    t.is(meta.generation, cur.generation);
    const got = await db.all();
    t.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
    for (const [rel, e] of want) t.true(sameEntry(got.get(rel)!, e), rel);
  } finally {
    await db.close();
  }
}

async function verifyIndex(prefix: string, repair = false) {
  const r = await storeCli(store)([
    'verify',
    '--prefix',
    prefix,
    '--json',
    ...(repair ? ['--repair'] : []),
  ]);
  return { r, index: jsonOut<{ index: { state: IndexState; differing: string[] } }>(r).index };
}

async function ok(t: ExecutionContext, args: string[]) {
  const r = await storeCli(store)(args);
  t.is(r.code, 0, describe(r));
}

const POINTS = [
  'txn:after-journal',
  'apply:after-files',
  'apply:after-markers',
  'commit:after-generation',
  'commit:after-current',
  'ownership:before-write',
];

const CRASHES = LAYOUTS.flatMap((layout) => POINTS.map((point) => `${layout} ${point}`));
const QUICK_CRASHES = [
  'inplace txn:after-journal',
  'inplace apply:after-markers',
  'inplace commit:after-current',
  'generations apply:after-files',
  'generations commit:after-generation',
  'generations ownership:before-write',
];

for (const crash of casesFor(CRASHES, QUICK_CRASHES)) {
  const [layout, point] = crash.split(' ') as [Layout, string];
  test(`${layout}: killed at ${point}, the index is never damaged and then equals a rebuild`, async (t) => {
    const prefix = await startingPrefix(t, layout);
    const killed = await storeCli(store)(
      ['activate', 'alpha@2.0', 'delta@1.0', '--prefix', prefix],
      { env: { PSTORE_TEST_CRASHPOINT: point } },
    );
    t.is(killed.signal, 'SIGKILL', describe(killed));
    await ok(t, ['status', '--prefix', prefix]); // recovers
    const { index } = await verifyIndex(prefix);
    t.true(['ok', 'behind'].includes(index.state), `after recovery: ${index.state}`);
    await ok(t, ['deactivate', 'beta', '--prefix', prefix]);
    await assertIndexIsRebuild(t, prefix, layout);
    await ok(t, ['rollback', '--prefix', prefix]);
    if (layout === 'generations') await assertBehindThenCaughtUp(t, prefix);
    await assertIndexIsRebuild(t, prefix, layout);
  });
}

/**
 * A generations rollback switches trees and leaves the index alone: it is behind (not damaged)
 * until the next transaction, which catches it up before it plans.
 */
async function assertBehindThenCaughtUp(t: ExecutionContext, prefix: string) {
  const { r, index } = await verifyIndex(prefix);
  t.is(r.code, 0, describe(r));
  t.is(index.state, 'behind', 'a tree switch does not touch the index');
  await ok(t, ['activate', 'gamma@1.0', '--prefix', prefix]);
}

const prepared = (t: ExecutionContext) => startingPrefix(t, 'inplace');

test('a missing index is rebuilt by the next transaction', async (t) => {
  const prefix = await prepared(t);
  await fsp.rm(ownershipDir(prefixPaths(prefix, 'inplace')), { recursive: true });
  t.is((await verifyIndex(prefix)).index.state, 'missing');
  await ok(t, ['activate', 'gamma@1.0', '--prefix', prefix]);
  await assertIndexIsRebuild(t, prefix, 'inplace');
});

test('an unreadable index is reported damaged (exit 4) and rebuilt by the next transaction', async (t) => {
  const prefix = await prepared(t);
  const dir = ownershipDir(prefixPaths(prefix, 'inplace'));
  for (const f of await fsp.readdir(dir))
    if (f !== 'LOCK') await fsp.writeFile(path.join(dir, f), 'garbage');
  const { r, index } = await verifyIndex(prefix);
  t.is(index.state, 'damaged');
  t.is(r.code, 4, describe(r));
  await ok(t, ['activate', 'gamma@1.0', '--prefix', prefix]);
  await assertIndexIsRebuild(t, prefix, 'inplace');
});

test('a tampered entry is named by verify --prefix and rebuilt by --repair', async (t) => {
  const prefix = await prepared(t);
  const p = prefixPaths(prefix, 'inplace');
  const db = (await OwnershipDb.open(p))!;
  const [rel, e] = [...(await db.all())].find(([, x]) => x.file.type === 'file')!;
  await db.write(new Map([[rel, { ...e, owners: ['somebody'] }]]), await db.meta());
  await db.close();
  const before = await verifyIndex(prefix);
  t.is(before.r.code, 4, describe(before.r));
  t.deepEqual(before.index, { state: 'damaged', differing: [rel] });
  const after = await verifyIndex(prefix, true);
  t.is(after.r.code, 0, describe(after.r));
  t.is(after.index.state, 'ok');
  await assertIndexIsRebuild(t, prefix, 'inplace');
});

test('an index left behind is caught up; a rebuild killed before its rename leaves nothing', async (t) => {
  const prefix = await prepared(t);
  const p = prefixPaths(prefix, 'inplace');
  const old = `${ownershipDir(p)}-saved`;
  await fsp.cp(ownershipDir(p), old, { recursive: true });
  await ok(t, ['activate', 'alpha@2.0', 'gamma@1.0', '--prefix', prefix]);
  await fsp.rm(ownershipDir(p), { recursive: true });
  await fsp.rename(old, ownershipDir(p)); // the index of generation 1, as after a crash
  const behind = await verifyIndex(prefix);
  t.is(behind.index.state, 'behind');
  t.is(behind.r.code, 0, 'an index behind is not damage');
  await ok(t, ['deactivate', 'beta', '--prefix', prefix]);
  await assertIndexIsRebuild(t, prefix, 'inplace');

  await fsp.rm(ownershipDir(p), { recursive: true });
  const killed = await storeCli(store)(['activate', 'delta@1.0', '--prefix', prefix], {
    env: { PSTORE_TEST_CRASHPOINT: 'ownership:before-rename' },
  });
  t.is(killed.signal, 'SIGKILL', describe(killed));
  await ok(t, ['deactivate', 'gamma', '--prefix', prefix]);
  await assertIndexIsRebuild(t, prefix, 'inplace');
  t.deepEqual(
    (await fsp.readdir(p.meta)).filter((n) => n.startsWith('.pstore-')),
    [],
    'no build directory left',
  );
});

test('an index in the JSON format of formatVersion 1 is reported behind and rebuilt by the next transaction', async (t) => {
  const prefix = await prepared(t);
  const p = prefixPaths(prefix, 'inplace');
  const db = (await OwnershipDb.open(p))!;
  const [meta, entries] = [await db.meta(), await db.all()];
  await db.close();
  await fsp.rm(ownershipDir(p), { recursive: true });
  // What the previous pstore wrote: JSON values, the manifest record (with its path) per key.
  const { Level } = await import('level');
  const old = new Level<string, unknown>(ownershipDir(p), { valueEncoding: 'json' });
  await old.batch([
    ...[...entries].map(([rel, e]) => ({ type: 'put' as const, key: `f:${rel}`, value: e })),
    { type: 'put', key: 'm', value: { ...meta, formatVersion: 1 } },
  ]);
  await old.close();
  const before = await verifyIndex(prefix);
  t.is(before.r.code, 0, describe(before.r));
  t.is(before.index.state, 'behind', 'another format is not damage');
  await ok(t, ['activate', 'gamma@1.0', '--prefix', prefix]);
  await assertIndexIsRebuild(t, prefix, 'inplace');
});

/** Each file of the index directory with a hash of its bytes: LevelDB rewrites some on every open. */
async function indexFiles(prefix: string, layout: Layout): Promise<Record<string, string>> {
  const dir = ownershipDir(prefixPaths(prefix, layout));
  const out: Record<string, string> = {};
  for (const f of (await fsp.readdir(dir)).sort())
    out[f] = createHash('sha256')
      .update(await fsp.readFile(path.join(dir, f)))
      .digest('hex');
  return out;
}

test('a generations rollback never opens the index; the next transaction catches it up', async (t) => {
  const prefix = await startingPrefix(t, 'generations');
  await ok(t, ['activate', 'gamma@1.0', '--prefix', prefix]);
  const before = await indexFiles(prefix, 'generations');
  await ok(t, ['rollback', '--prefix', prefix]);
  t.deepEqual(await indexFiles(prefix, 'generations'), before, 'not opened: no file rewritten');
  await ok(t, ['rollback', '--to', '2', '--prefix', prefix]);
  t.deepEqual(await indexFiles(prefix, 'generations'), before);
  await ok(t, ['rollback', '--to', '1', '--prefix', prefix]);
  await assertBehindThenCaughtUp(t, prefix);
  await assertIndexIsRebuild(t, prefix, 'generations');
});

test('an inplace rollback keeps the index in step', async (t) => {
  const prefix = await prepared(t);
  await ok(t, ['activate', 'gamma@1.0', '--prefix', prefix]);
  await ok(t, ['rollback', '--prefix', prefix]);
  t.is((await verifyIndex(prefix)).index.state, 'ok');
  await assertIndexIsRebuild(t, prefix, 'inplace');
});

test("a new prefix's first transaction killed after creating its empty index, before its meta record: the next transaction rebuilds it", async (t) => {
  const dir = await tempDir(t, 'own-new');
  const prefix = path.join(dir, 'prefix');
  const p = prefixPaths(prefix, 'inplace');
  const killed = await storeCli(store)(['activate', 'alpha@1.0', '--prefix', prefix], {
    env: { PSTORE_TEST_CRASHPOINT: 'ownership:before-empty-meta' },
  });
  t.is(killed.signal, 'SIGKILL', describe(killed));
  // Killed where the index is created in place, with no build aside: it holds no meta record.
  t.true(
    await fsp.stat(path.join(ownershipDir(p), 'CURRENT')).then(
      () => true,
      () => false,
    ),
  );
  const db = (await OwnershipDb.open(p))!;
  await t.throwsAsync(() => db.meta(), { message: /meta record is missing/ });
  await db.close();
  // A new prefix's prefix.json is put in place with its first journal: before that, there is none.
  t.false(await exists(p.prefixFile), 'no prefix.json before the first journal');
  const temps = async () => (await fsp.readdir(p.meta)).filter((n) => n.startsWith('.pstore-tmp-'));
  t.is((await temps()).length, 1, 'its record, written and not yet put in place');
  const status = await storeCli(store)(['status', '--prefix', prefix, '--json']);
  t.is(status.code, 6, describe(status));
  t.is(jsonError(status).code, 'EPSTORE_NOT_FOUND', 'nothing was committed: not a prefix yet');
  await ok(t, ['activate', 'alpha@1.0', 'beta@1.0', '--prefix', prefix]);
  t.deepEqual(await temps(), [], "the killed writer's temp record is swept");
  await assertIndexIsRebuild(t, prefix, 'inplace');
  t.is((await verifyIndex(prefix)).index.state, 'ok');
});
