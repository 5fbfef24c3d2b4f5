// GC roots of the transaction layer: every entry named by a retained generation of any registered
// prefix, by the journal of an interrupted transaction, or added within the grace period (default
// 24 h, `--older-than`) is kept with all its objects; everything else goes. A prefix whose state is
// missing keeps every entry until it has been missing 24 h or `--forget-missing` forgets it;
// --dry-run removes nothing; rollback to a retained generation still works after gc.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { openStore, type Prefix } from '../../lib/index.js';
import { describe, jsonOut, storeCli } from '../_helpers/cli.js';
import { diffSnapshots, storeSnapshot, type Snapshot } from '../_helpers/snapshot.js';
import {
  assertCleanStore,
  manifestFiles,
  manifestPathOf,
  objectFiles,
  objectKeyOf,
} from '../_helpers/store.js';
import { bindMount, rootTest, shiftedClock, unmount } from '../_helpers/environment.js';
import { tempDir } from '../_helpers/tmp.js';
import {
  addPkgs,
  exists,
  listTree,
  stagePkg,
  unionOf,
  type PkgOptions,
  type StagedPkg,
} from '../_helpers/txn-trees.js';

interface GcJson {
  dryRun: boolean;
  entriesRemoved: Array<{ id: string; name: string; version: string }>;
  entriesKept: number;
  objectsRemoved: number;
  bytesFreed: number;
  prefixes: number;
  prefixesMissing: string[];
}

interface Fx {
  dir: string;
  store: string;
  cli: ReturnType<typeof storeCli>;
  ids: Map<string, string>;
  pkg: Map<string, StagedPkg>;
  add(name: string, opts?: PkgOptions): Promise<string>;
  prefix(name: string): string;
  gc(...args: string[]): Promise<GcJson>;
  // Setup and the checks after each gc through the library: gc is under test here, not the CLI's
  // activate, deactivate, prune, rollback, recover, hash, status or ls (each has its own CLI tests).
  lib(prefix: string): Prefix;
  activate(prefix: string, refs: string[], layout?: Layout): Promise<void>;
  deactivate(prefix: string, names: string[]): Promise<void>;
  prune(prefix: string, keep: number): Promise<void>;
}

type Layout = 'inplace' | 'generations';

async function fx(t: ExecutionContext, tag: string): Promise<Fx> {
  const dir = await tempDir(t, tag);
  const store = path.join(dir, 'store');
  const cli = storeCli(store);
  const ids = new Map<string, string>();
  const pkg = new Map<string, StagedPkg>();
  const f: Fx = {
    dir,
    store,
    cli,
    ids,
    pkg,
    async add(name, opts = {}) {
      const p = await stagePkg(path.join(dir, 'src'), name, opts);
      const id = (await addPkgs(store, [p])).get(`${p.name}@${p.version}`)!;
      ids.set(`${p.name}@${p.version}`, id);
      pkg.set(`${p.name}@${p.version}`, p);
      return id;
    },
    prefix: (name) => path.join(dir, 'prefixes', name),
    lib: (prefix) => openStore({ path: store }).prefix(prefix),
    async gc(...args) {
      const r = await cli(['gc', '--json', ...args]);
      t.is(r.code, 0, describe(r));
      return jsonOut<GcJson>(r);
    },
    async activate(prefix, refs, layout) {
      await openStore({ path: store })
        .prefix(prefix, layout ? { layout } : {})
        .activate(refs);
    },
    async deactivate(prefix, names) {
      await openStore({ path: store }).prefix(prefix).deactivate(names);
    },
    async prune(prefix, keep) {
      await openStore({ path: store }).prefix(prefix).prune({ keep });
    },
  };
  return f;
}

/** Object keys of an entry, read from its manifest file (not through pstore). */
async function keysOf(store: string, id: string): Promise<Set<string>> {
  const m = (await manifestFiles(store)).get(id);
  if (!m) throw new Error(`no manifest for ${id}`);
  return new Set(
    m.files
      .filter((x) => x.type === 'file')
      .map((x) => objectKeyOf({ integrity: x.integrity!, exec: x.exec! })),
  );
}

async function objectKeys(store: string): Promise<Set<string>> {
  return new Set((await objectFiles(store)).map((o) => o.key));
}

/** Differences apart from prefixes-v1/ (gc notes there when it first found a prefix missing). */
function diffNoRegistrations(before: Snapshot, after: Snapshot) {
  const strip = (s: Snapshot) =>
    Object.fromEntries(Object.entries(s).filter(([k]) => !k.startsWith('prefixes-v1/')));
  return diffSnapshots(strip(before), strip(after));
}

/** The code a refused library call rejects with (EPSTORE_NOT_FOUND is exit 6), or 'ok'. */
const outcome = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => 'ok',
    (e: unknown) => (e as { code?: unknown }).code ?? e,
  );

/** The store's entries as `ls --json` lists them, read through the library. */
const entries = async (store: string) => openStore({ path: store }).list();

const removedNames = (g: GcJson) => g.entriesRemoved.map((e) => `${e.name}@${e.version}`).sort();

// The checks after each gc read through the library (what `ls` and `verify --prefix` run): gc is
// the command under test here, and those two have CLI tests of their own.
async function listed(_t: ExecutionContext, store: string): Promise<string[]> {
  return (await openStore({ path: store }).list()).map((e) => `${e.name}@${e.version}`).sort();
}

async function assertPrefixOk(
  t: ExecutionContext,
  f: Fx,
  prefix: string,
  active: string[],
): Promise<void> {
  const v = await openStore({ path: f.store }).prefix(prefix).verify();
  t.true(v.ok, `verify --prefix: ${JSON.stringify(v)}`);
  t.deepEqual(await listTree(prefix), await unionOf(active.map((k) => f.pkg.get(k)!)));
}

test('gc keeps an old version while a retained generation names it; after prune it removes the entry and its unique objects only', async (t) => {
  const f = await fx(t, 'gc-gen');
  const v1 = await f.add('tool', { version: '1.0' });
  const P = f.prefix('p');
  await f.activate(P, ['tool@1.0']);
  const v2 = await f.add('tool', { version: '2.0' });
  await f.activate(P, ['tool@2.0']);
  const k1 = await keysOf(f.store, v1);
  const k2 = await keysOf(f.store, v2);
  const shared = [...k1].filter((k) => k2.has(k));
  const only1 = [...k1].filter((k) => !k2.has(k));
  t.true(shared.length >= 2 && only1.length >= 3, 'the fixture has shared and unique objects');

  const g1 = await f.gc('--older-than', '0');
  t.deepEqual(g1.entriesRemoved, [], 'generation 1 still names tool@1.0');
  t.is(g1.prefixes, 1);
  t.deepEqual(await listed(t, f.store), ['tool@1.0', 'tool@2.0']);
  for (const k of k1) t.true((await objectKeys(f.store)).has(k));

  const pr = await f.lib(P).prune({ keep: 1 });
  t.deepEqual(pr.removed, [1]);
  const g2 = await f.gc('--older-than', '0');
  t.deepEqual(
    g2.entriesRemoved.map((e) => e.id),
    [v1],
  );
  t.is(g2.objectsRemoved, only1.length);
  t.deepEqual(await listed(t, f.store), ['tool@2.0']);
  t.false(await exists(manifestPathOf(f.store, v1)), 'the manifest of tool@1.0 is gone');
  const have = await objectKeys(f.store);
  for (const k of only1) t.false(have.has(k), `unique object of 1.0 removed: ${k.slice(0, 16)}`);
  for (const k of shared) t.true(have.has(k), `object shared with 2.0 kept: ${k.slice(0, 16)}`);
  for (const k of k2) t.true(have.has(k));
  await assertCleanStore(t, f.store);
  await assertPrefixOk(t, f, P, ['tool@2.0']);
  t.is(
    await outcome(f.lib(P).rollback({ to: 1 })),
    'EPSTORE_NOT_FOUND',
    'a pruned generation is gone',
  );
  t.is(await outcome(f.lib(P).activate(['tool@1.0'])), 'EPSTORE_NOT_FOUND', 'and so is the entry');
});

test('an entry stays rooted while any registered prefix retains it', async (t) => {
  const f = await fx(t, 'gc-any');
  const v1 = await f.add('tool', { version: '1.0' });
  await f.add('tool', { version: '2.0' });
  const A = f.prefix('a');
  const B = f.prefix('b');
  await f.activate(A, ['tool@1.0']);
  await f.activate(A, ['tool@2.0']);
  await f.prune(A, 1);
  await f.activate(B, ['tool@1.0'], 'generations');
  t.deepEqual((await f.gc('--older-than', '0')).entriesRemoved, [], 'B still has tool@1.0');

  await f.activate(B, ['tool@2.0']);
  t.deepEqual(
    (await f.gc('--older-than', '0')).entriesRemoved,
    [],
    'B generation 1 still names tool@1.0',
  );
  await f.prune(B, 1);
  const g = await f.gc('--older-than', '0');
  t.deepEqual(
    g.entriesRemoved.map((e) => e.id),
    [v1],
  );
  t.is(g.prefixes, 2);
  await assertCleanStore(t, f.store);
  await assertPrefixOk(t, f, A, ['tool@2.0']);
  await assertPrefixOk(t, f, B, ['tool@2.0']);
});

test('entries added within the grace period are kept by default; --older-than 0 removes them when unreferenced', async (t) => {
  const f = await fx(t, 'gc-grace');
  await f.add('rooted');
  await f.activate(f.prefix('p'), ['rooted']);
  const loose = await f.add('loose');
  const kLoose = await keysOf(f.store, loose);
  const kRooted = await keysOf(f.store, f.ids.get('rooted@1.0')!);
  const sharedWithRooted = [...kLoose].filter((k) => kRooted.has(k));
  t.true(sharedWithRooted.length > 0, 'the copyright object is shared');

  t.deepEqual((await f.gc()).entriesRemoved, [], 'default grace: 24 h');
  t.deepEqual((await f.gc('--older-than', '1h')).entriesRemoved, []);
  t.deepEqual(await listed(t, f.store), ['loose@1.0', 'rooted@1.0']);

  const g = await f.gc('--older-than', '0');
  t.deepEqual(removedNames(g), ['loose@1.0']);
  t.deepEqual(await listed(t, f.store), ['rooted@1.0']);
  const have = await objectKeys(f.store);
  for (const k of kLoose)
    t.is(
      have.has(k),
      kRooted.has(k),
      `object ${k.slice(0, 16)}: kept iff the rooted entry uses it`,
    );
  await assertCleanStore(t, f.store);
  t.is(await outcome(f.lib(f.prefix('p')).activate(['loose'])), 'EPSTORE_NOT_FOUND');

  // Re-adding restores it, and it is within the grace period again.
  await f.add('loose');
  t.deepEqual((await f.gc()).entriesRemoved, []);
  await f.activate(f.prefix('p'), ['loose']);
  await assertPrefixOk(t, f, f.prefix('p'), ['rooted@1.0', 'loose@1.0']);
});

for (const [point, fresh] of [
  ['txn:after-journal', false],
  ['apply:after-files', false],
  ['txn:after-journal', true],
] as const) {
  test(`entries of an interrupted transaction (crash at ${point}${fresh ? ', first transaction of a new prefix' : ''}) survive gc --older-than 0; recover then succeeds`, async (t) => {
    const f = await fx(t, 'gc-journal');
    await f.add('base');
    const y = await f.add('newcomer');
    const P = f.prefix('p');
    if (!fresh) await f.activate(P, ['base']);
    const crashed = await f.cli(['activate', 'newcomer', '--prefix', P], {
      env: { PSTORE_TEST_CRASHPOINT: point },
    });
    t.is(crashed.signal, 'SIGKILL', describe(crashed));
    t.true(await exists(path.join(P, '.pstore', 'journal.json')));

    const g = await f.gc('--older-than', '0');
    t.false(
      g.entriesRemoved.some((e) => e.id === y),
      `the journal roots newcomer: ${JSON.stringify(g.entriesRemoved)}`,
    );
    t.deepEqual(removedNames(g), fresh ? ['base@1.0'] : []);
    const have = await objectKeys(f.store);
    for (const k of await keysOf(f.store, y))
      t.true(have.has(k), 'every object of newcomer is still there');
    t.true(await exists(path.join(P, '.pstore', 'journal.json')), 'gc leaves the journal alone');

    t.like(await f.lib(P).recover(), {
      recovered: true,
      action: 'rolled-forward',
      generation: fresh ? 1 : 2,
    });
    await assertPrefixOk(t, f, P, fresh ? ['newcomer@1.0'] : ['base@1.0', 'newcomer@1.0']);
    await assertCleanStore(t, f.store);
  });
}

for (const layout of ['inplace', 'generations'] as const) {
  test(`${layout}: a deleted prefix keeps every entry until gc --forget-missing; then it stops rooting`, async (t) => {
    const f = await fx(t, 'gc-deleted');
    const gone = await f.add('gone');
    await f.add('stays');
    const P = f.prefix('doomed');
    const Q = f.prefix('kept');
    await f.activate(P, ['gone'], layout);
    await f.activate(Q, ['stays'], layout);
    t.like(await f.gc('--older-than', '0'), { entriesRemoved: [], prefixes: 2 });

    // Delete the prefix the way a user would: the directory (and, for generations, its state beside it).
    await fsp.rm(P, { recursive: true, force: true });
    if (layout === 'generations')
      await fsp.rm(path.join(path.dirname(P), `.pstore-${path.basename(P)}`), {
        recursive: true,
        force: true,
      });
    const before = await storeSnapshot(f.store);
    const kept = await f.gc('--older-than', '0');
    t.deepEqual(
      kept.entriesRemoved,
      [],
      'gc cannot know what a missing prefix uses: it keeps every entry',
    );
    t.deepEqual(kept.prefixesMissing, [P]);
    t.deepEqual(diffNoRegistrations(before, await storeSnapshot(f.store)), {
      added: [],
      removed: [],
      changed: [],
    });
    const g = await f.gc('--older-than', '0', '--forget-missing');
    t.deepEqual(g.prefixesMissing, []);
    t.deepEqual(
      g.entriesRemoved.map((e) => e.id),
      [gone],
    );
    t.is(g.prefixes, 1);
    t.deepEqual(await listed(t, f.store), ['stays@1.0']);
    await assertCleanStore(t, f.store);
    await assertPrefixOk(t, f, Q, ['stays@1.0']);

    // A new prefix at the same place starts from nothing and roots what it activates.
    await f.add('gone');
    await f.activate(P, ['gone'], layout);
    t.like(await f.gc('--older-than', '0'), { entriesRemoved: [], prefixes: 2 });
    await assertPrefixOk(t, f, P, ['gone@1.0']);
  });
}

test('gc --dry-run removes nothing: no entry, object, manifest, tmp file or prefix registration', async (t) => {
  const f = await fx(t, 'gc-dry');
  await f.add('v', { version: '1.0' });
  await f.add('v', { version: '2.0' });
  await f.add('loose');
  const P = f.prefix('p');
  const D = f.prefix('deleted');
  await f.activate(P, ['v@1.0']);
  await f.activate(P, ['v@2.0']);
  await f.prune(P, 1);
  await f.add('doomed');
  await f.activate(D, ['doomed']);
  await fsp.rm(D, { recursive: true });
  await fsp.mkdir(path.join(f.store, 'tmp'), { recursive: true });
  await fsp.writeFile(path.join(f.store, 'tmp', '.pstore-obj-1-000000000000'), 'partial');

  const snap = await storeSnapshot(f.store);
  const ls = await entries(f.store);
  const dry = await f.gc('--older-than', '0', '--forget-missing', '--dry-run');
  t.true(dry.dryRun);
  t.deepEqual(removedNames(dry), ['doomed@1.0', 'loose@1.0', 'v@1.0']);
  t.true(dry.objectsRemoved > 0);
  t.deepEqual(
    await storeSnapshot(f.store),
    snap,
    'objects, manifests, tmp/ and prefix registrations are unchanged',
  );
  t.deepEqual(await entries(f.store), ls, 'the index is unchanged');

  const real = await f.gc('--older-than', '0', '--forget-missing');
  t.deepEqual(removedNames(real), removedNames(dry), 'the dry run predicted the real run');
  t.is(real.objectsRemoved, dry.objectsRemoved);
  t.is(real.bytesFreed, dry.bytesFreed);
  await assertCleanStore(t, f.store);
  await assertPrefixOk(t, f, P, ['v@2.0']);
});

for (const layout of ['inplace', 'generations'] as const) {
  test(`${layout}: rollback to a retained generation works after gc --older-than 0`, async (t) => {
    const f = await fx(t, 'gc-rollback');
    await f.add('app', { version: '1.0' });
    await f.add('app', { version: '2.0' });
    await f.add('lib');
    const P = f.prefix('p');
    await f.activate(P, ['app@1.0'], layout);
    const hash1 = (await f.lib(P).hash()).digest;
    await f.activate(P, ['app@2.0', 'lib']);
    await f.deactivate(P, ['lib']);

    const g = await f.gc('--older-than', '0');
    t.deepEqual(g.entriesRemoved, [], 'every entry is named by a retained generation');
    await assertCleanStore(t, f.store);

    t.like(await f.lib(P).rollback({ to: 1 }), { generation: 1 });
    await assertPrefixOk(t, f, P, ['app@1.0']);
    t.is((await f.lib(P).hash()).digest, hash1, 'the same tree as before');

    await f.gc('--older-than', '0');
    t.like(await f.lib(P).rollback({ to: 2 }), { generation: 2 });
    await assertPrefixOk(t, f, P, ['app@2.0', 'lib@1.0']);
  });
}

/** `used` active in a prefix, `loose` only in the store: where the fail-closed gc tests start. */
async function usedAndLoose(t: ExecutionContext, tag: string) {
  const f = await fx(t, tag);
  await f.add('used');
  await f.add('loose');
  const P = f.prefix('p');
  await f.activate(P, ['used']);
  return { f, P };
}

/** Once the damage is undone, gc removes exactly the loose entry and the prefix is intact. */
async function assertOnlyLooseCollected(t: ExecutionContext, f: Fx, P: string): Promise<void> {
  t.deepEqual(removedNames(await f.gc('--older-than', '0')), ['loose@1.0']);
  await assertPrefixOk(t, f, P, ['used@1.0']);
}

test("gc fails closed when a registered prefix's generation record or journal cannot be read: nothing is removed", async (t) => {
  const { f, P } = await usedAndLoose(t, 'gc-closed');
  for (const damaged of ['generations/1.json', 'journal.json']) {
    const file = path.join(P, '.pstore', damaged);
    const saved = await fsp.readFile(file).catch(() => undefined);
    await fsp.writeFile(file, '{"formatVersion": 1, "generation": 1, "packa');
    const snap = await storeSnapshot(f.store);
    const ls = await entries(f.store);
    const r = await f.cli(['gc', '--older-than', '0', '--json']);
    t.not(
      r.code,
      0,
      `gc must not guess the roots of a prefix it cannot read (${damaged}): ${describe(r)}`,
    );
    t.deepEqual(await storeSnapshot(f.store), snap, `nothing removed (${damaged})`);
    t.deepEqual(await entries(f.store), ls);
    if (saved) await fsp.writeFile(file, saved);
    else await fsp.rm(file);
  }
  await assertOnlyLooseCollected(t, f, P);
});

test('gc fails closed on a prefix registration it cannot read: nothing is removed', async (t) => {
  const { f, P } = await usedAndLoose(t, 'gc-reg');
  // SPEC §Registrations: one registration file per prefix under <store>/prefixes-v1/.
  const regDir = path.join(f.store, 'prefixes-v1');
  const regs = (await fsp.readdir(regDir)).filter((n) => n.endsWith('.json'));
  t.is(regs.length, 1, `one registration: ${regs.join(' ')}`);
  const reg = path.join(regDir, regs[0]!);
  const saved = await fsp.readFile(reg);
  await fsp.writeFile(reg, '{"dir": "/trunc');
  const snap = await storeSnapshot(f.store);
  const r = await f.cli(['gc', '--older-than', '0', '--json']);
  t.not(
    r.code,
    0,
    `a registration gc cannot read may name roots: gc must stop, not guess: ${describe(r)}`,
  );
  t.deepEqual(await storeSnapshot(f.store), snap, 'nothing removed, the registration kept');
  await fsp.writeFile(reg, saved);
  await assertOnlyLooseCollected(t, f, P);
});

const DAY = 24 * 3600 * 1000;

/** The one registration file under <store>/prefixes-v1/ (SPEC §Registrations), parsed, with its
 * path. */
async function registration(
  t: ExecutionContext,
  store: string,
): Promise<{ file: string; reg: { dir: string; missingSince?: string } } | undefined> {
  const dir = path.join(store, 'prefixes-v1');
  const names = (await fsp.readdir(dir).catch(() => [] as string[])).filter((n) =>
    n.endsWith('.json'),
  );
  t.true(names.length <= 1, `at most one registration: ${names.join(' ')}`);
  if (names.length === 0) return undefined;
  const file = path.join(dir, names[0]!);
  return {
    file,
    reg: JSON.parse(await fsp.readFile(file, 'utf8')) as { dir: string; missingSince?: string },
  };
}

test('an entry added by a process whose clock is two days behind is kept by the default gc: the filesystem clock decides', async (t) => {
  const f = await fx(t, 'gc-clock');
  const p = await stagePkg(path.join(f.dir, 'src'), 'late');
  const r = await f.cli(['add', p.dir, '--name', p.name, '--version', p.version, '--json'], {
    env: await shiftedClock(-2 * DAY),
  });
  t.is(r.code, 0, describe(r));
  const id = jsonOut<{ id: string }>(r).id;
  const recorded = Date.parse((await entries(f.store))[0]!.lastAddedAt);
  t.true(
    Date.now() - recorded > 1.9 * DAY,
    `the index records the add two days back (${new Date(recorded).toISOString()})`,
  );
  // The manifest's mtime as that host would set it on a re-add: two days back too.
  const old = new Date(Date.now() - 2 * DAY);
  await fsp.utimes(manifestPathOf(f.store, id), old, old);
  const before = await storeSnapshot(f.store);

  t.deepEqual(
    (await f.gc()).entriesRemoved,
    [],
    'default grace (24 h) by the filesystem clock: the add was seconds ago',
  );
  t.deepEqual((await f.gc('--older-than', '1h')).entriesRemoved, []);
  t.deepEqual(await storeSnapshot(f.store), before, 'nothing was removed');
  t.deepEqual(await listed(t, f.store), ['late@1.0']);
  await assertCleanStore(t, f.store);
  t.deepEqual(
    (await f.gc('--older-than', '0')).entriesRemoved.map((e) => e.id),
    [id],
    'it is unreferenced: no grace, no entry',
  );
});

test('an entry added by a process whose clock is two days ahead counts as added now', async (t) => {
  const f = await fx(t, 'gc-clock-ahead');
  const p = await stagePkg(path.join(f.dir, 'src'), 'early');
  const r = await f.cli(['add', p.dir, '--name', p.name, '--version', p.version, '--json'], {
    env: await shiftedClock(2 * DAY),
  });
  t.is(r.code, 0, describe(r));
  t.deepEqual((await f.gc()).entriesRemoved, []);
  t.deepEqual(
    (await f.gc('--older-than', '0')).entriesRemoved.map((e) => e.id),
    [jsonOut<{ id: string }>(r).id],
    'a future time is now, not forever',
  );
  await assertCleanStore(t, f.store);
});

test('a prefix missing for longer than 24 h is forgotten by a plain gc', async (t) => {
  const f = await fx(t, 'gc-missing-grace');
  const gone = await f.add('gone');
  const P = f.prefix('doomed');
  await f.activate(P, ['gone']);
  await fsp.rm(P, { recursive: true });
  const first = await f.gc('--older-than', '0');
  t.deepEqual(first.entriesRemoved, []);
  t.deepEqual(first.prefixesMissing, [P]);
  const noted = await registration(t, f.store);
  t.truthy(noted?.reg.missingSince, 'gc noted when it first found the prefix missing');
  t.true(
    Math.abs(Date.parse(noted!.reg.missingSince!) - Date.now()) < 60_000,
    noted?.reg.missingSince,
  );
  t.deepEqual((await f.gc('--older-than', '0')).entriesRemoved, [], 'still within 24 h');
  t.is(
    (await registration(t, f.store))?.reg.missingSince,
    noted!.reg.missingSince,
    'the first time it was seen missing is kept',
  );

  await fsp.writeFile(
    noted!.file,
    JSON.stringify({ ...noted!.reg, missingSince: new Date(Date.now() - 2 * DAY).toISOString() }),
  );
  const g = await f.gc('--older-than', '0');
  t.deepEqual(
    g.entriesRemoved.map((e) => e.id),
    [gone],
  );
  t.deepEqual(g.prefixesMissing, []);
  t.is(await registration(t, f.store), undefined, 'the registration is gone');
  await assertCleanStore(t, f.store);
});

rootTest(
  'an inplace prefix on a volume that is unmounted when gc runs keeps its entries; mounted back it works; --forget-missing forgets it',
  async (t) => {
    const f = await fx(t, 'gc-unmounted');
    const onVolume = await f.add('onvol');
    const loose = await f.add('loose');
    const volume = path.join(f.dir, 'volume');
    const P = f.prefix('mnt');
    await fsp.mkdir(volume, { recursive: true });
    await fsp.mkdir(P, { recursive: true });
    await bindMount(t, volume, P);
    await f.activate(P, ['onvol']);
    await assertPrefixOk(t, f, P, ['onvol@1.0']);

    await unmount(P);
    const before = await storeSnapshot(f.store);
    const g1 = await f.gc('--older-than', '0');
    t.deepEqual(g1.entriesRemoved, [], 'the prefix cannot be read: every entry is kept');
    t.deepEqual(g1.prefixesMissing, [P]);
    t.deepEqual(diffNoRegistrations(before, await storeSnapshot(f.store)), {
      added: [],
      removed: [],
      changed: [],
    });
    const human = await f.cli(['gc', '--older-than', '0']);
    t.regex(human.stderr, /prefix .*mnt is missing/, 'a note on stderr says which prefix');

    await bindMount(t, volume, P);
    await assertPrefixOk(t, f, P, ['onvol@1.0']);
    t.like(await f.lib(P).status(), { generation: 1 });
    const g2 = await f.gc('--older-than', '0');
    t.deepEqual(
      g2.entriesRemoved.map((e) => e.id),
      [loose],
      'back again: its roots count, the loose entry goes',
    );
    t.deepEqual(g2.prefixesMissing, []);
    t.is(
      (await registration(t, f.store))?.reg.missingSince,
      undefined,
      'the missing note is cleared',
    );
    await assertPrefixOk(t, f, P, ['onvol@1.0']);
    await assertCleanStore(t, f.store);

    await unmount(P);
    const g3 = await f.gc('--older-than', '0', '--forget-missing');
    t.deepEqual(
      g3.entriesRemoved.map((e) => e.id),
      [onVolume],
      '--forget-missing forgets the prefix and its roots',
    );
    t.is(await registration(t, f.store), undefined);
    await assertCleanStore(t, f.store);
  },
);
