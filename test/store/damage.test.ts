// Damaged store content is never installed, and can be repaired (issue 7, class 3). Activation
// refuses an object whose size (always) or hash (`--verify`) differs from its manifest, exit 4
// naming the object and the entry, before any change; `verify --repair` removes damaged objects and
// manifests and re-adding (or importing) the same content restores them; a damaged manifest blocks
// only the operations that need that entry.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { openStore, type VerifyResult } from '../../lib/index.js';
import { describe, jsonOut, storeCli, type CliResult } from '../_helpers/cli.js';
import { snapshotDir } from '../_helpers/snapshot.js';
import {
  assertCleanStore,
  flipByte,
  manifestPathOf,
  objectKeyOf,
  objectPathOf,
} from '../_helpers/store.js';
import { serialAdd } from '../_helpers/prefix-fixtures.js';
import { tempDir } from '../_helpers/tmp.js';
import { buildTree, file, sha512Integrity } from '../_helpers/tree.js';
import { exists, jsonError, listTree } from '../_helpers/txn-trees.js';

const A_DATA = 'alpha data\n'.repeat(50);
const A_TOOL = '#!/bin/sh\necho alpha\n';
const B_DATA = 'beta data\n';

async function setup(t: ExecutionContext) {
  const dir = await tempDir(t, 'damage');
  const store = path.join(dir, 'store');
  const cli = storeCli(store);
  const src = {
    a: await buildTree(path.join(dir, 'a'), {
      'share/a/data.txt': A_DATA,
      'bin/a': file(A_TOOL, 0o755),
    }),
    b: await buildTree(path.join(dir, 'b'), { 'share/b/data.txt': B_DATA }),
  };
  const add = async (which: 'a' | 'b'): Promise<CliResult> =>
    cli(['add', src[which], '--name', which, '--version', '1', '--json']);
  // the first adds are setup, through the library; the re-adds under test are spawned (`add`)
  const opened = openStore({ path: store });
  for (const which of ['a', 'b'] as const)
    await serialAdd(() => opened.add(src[which], { name: which, version: '1' }));
  const objA = objectPathOf(store, {
    integrity: sha512Integrity(Buffer.from(A_DATA)),
    exec: false,
  });
  return {
    dir,
    store,
    cli,
    add,
    objA,
    keyA: objectKeyOf({ integrity: sha512Integrity(Buffer.from(A_DATA)), exec: false }),
  };
}

/** Cut entry `name`'s manifest to 40 bytes (as a crash or a bad disk might); returns its id. */
async function truncateManifest(
  cli: ReturnType<typeof storeCli>,
  store: string,
  name: string,
): Promise<string> {
  const id = jsonOut<{ id: string }>(await cli(['info', name, '--json'])).id;
  const manifest = manifestPathOf(store, id);
  const text = await fsp.readFile(manifest, 'utf8');
  await fsp.chmod(manifest, 0o644);
  await fsp.writeFile(manifest, text.slice(0, 40));
  await fsp.chmod(manifest, 0o444);
  return id;
}

function verifyJson(t: ExecutionContext, r: CliResult, code: number): VerifyResult {
  t.is(r.code, code, describe(r));
  return jsonOut<VerifyResult>(r);
}

/**
 * The prefix verifies clean and holds `names`, read through the library after the spawned command
 * under test (`verify --prefix` and `status` have their CLI contracts in their own tests).
 */
async function assertPrefixClean(
  t: ExecutionContext,
  store: string,
  prefix: string,
  names: string[],
): Promise<void> {
  const p = openStore({ path: store }).prefix(prefix);
  t.like(await p.verify(), { ok: true, missing: [], modified: [], strays: [] }, 'verify --prefix');
  t.deepEqual((await p.status()).packages.map((x) => x.name).sort(), names);
}

test('a flipped byte: verify finds it, verify --repair removes it (exit 4), re-adding restores it, verify is clean', async (t) => {
  const { store, cli, add, objA, keyA } = await setup(t);
  await flipByte(objA, 7);
  t.deepEqual(
    verifyJson(t, await cli(['verify', '--json']), 4).problems.map((p) => [p.name, p.corrupt]),
    [['a', ['share/a/data.txt']]],
  );

  const repaired = verifyJson(t, await cli(['verify', '--repair', '--json']), 4);
  t.deepEqual(
    repaired.repaired,
    { objects: [keyA], entries: [] },
    'the damaged object is named as removed',
  );
  t.false(await exists(objA));
  t.deepEqual(
    verifyJson(t, await cli(['verify', '--json']), 4).problems.map((p) => [p.name, p.missing]),
    [['a', ['share/a/data.txt']]],
  );

  const again = await add('a');
  t.is(again.code, 0, describe(again));
  t.is(
    jsonOut<{ objectsWritten: number }>(again).objectsWritten,
    1,
    'the missing object was written',
  );
  t.is(await fsp.readFile(objA, 'utf8'), A_DATA);
  await assertCleanStore(t, store);
});

test('a flipped byte is repaired by re-adding alone: a present object is trusted only if its bytes match', async (t) => {
  const { store, add, objA } = await setup(t);
  await flipByte(objA, 3);
  const again = await add('a');
  t.is(
    jsonOut<{ objectsWritten: number }>(again).objectsWritten,
    1,
    'the damaged object was replaced',
  );
  t.is(await fsp.readFile(objA, 'utf8'), A_DATA);
  t.is((await fsp.stat(objA)).mode & 0o777, 0o444);
  await assertCleanStore(t, store);
});

test('appending to a hard-linked prefix file: activating that entry elsewhere exits 4 naming object and entry; nothing changes', async (t) => {
  const { dir, store, cli, add, keyA } = await setup(t);
  const first = path.join(dir, 'first');
  t.is((await cli(['activate', 'a', '--prefix', first])).code, 0);
  const linked = path.join(first, 'share/a/data.txt');
  t.is((await fsp.stat(linked)).nlink, 2, 'the prefix file is the object');
  await fsp.appendFile(linked, 'root appended this\n'); // edits the shared object too

  const second = path.join(dir, 'second');
  const r = await cli(['activate', 'a', '--prefix', second, '--json']);
  t.is(r.code, 4, describe(r));
  const e = jsonError(r);
  t.is(e.code, 'EPSTORE_INTEGRITY');
  t.is(e.subject, keyA, 'names the object');
  t.regex(e.message, /a@1/, 'names the entry');
  t.regex(e.message, /share\/a\/data\.txt/);
  t.false(await exists(second), 'the new prefix was not created');

  const existing = path.join(dir, 'existing');
  t.is((await cli(['activate', 'b', '--prefix', existing])).code, 0);
  const before = {
    tree: await listTree(existing),
    state: await snapshotDir(path.join(existing, '.pstore')),
  };
  t.is((await cli(['activate', 'a', '--prefix', existing])).code, 4);
  t.deepEqual(
    { tree: await listTree(existing), state: await snapshotDir(path.join(existing, '.pstore')) },
    before,
    'an existing prefix is unchanged',
  );
  await assertPrefixClean(t, store, existing, ['b']);

  // repair, re-add: everything is right again (the first prefix keeps the damaged inode it shares)
  t.is((await cli(['verify', '--repair'])).code, 4);
  t.is((await add('a')).code, 0);
  t.is((await cli(['activate', 'a', '--prefix', second])).code, 0);
  t.is(await fsp.readFile(path.join(second, 'share/a/data.txt'), 'utf8'), A_DATA);
  await assertPrefixClean(t, store, second, ['a']);
  t.deepEqual(
    jsonOut<{ modified: string[] }>(await cli(['verify', '--prefix', first, '--json'])).modified,
    ['share/a/data.txt'],
  );
  await assertCleanStore(t, store);
});

test('a same-size flipped byte: activate --verify exits 4 before any change (the size check alone cannot see it)', async (t) => {
  const { dir, store, cli, add, objA, keyA } = await setup(t);
  await flipByte(objA, 0);
  const prefix = path.join(dir, 'p');
  const r = await cli(['activate', 'a', '--prefix', prefix, '--verify', '--json']);
  t.is(r.code, 4, describe(r));
  t.is(jsonError(r).subject, keyA);
  t.false(await exists(prefix));
  t.is((await add('a')).code, 0);
  t.is((await cli(['activate', 'a', '--prefix', prefix, '--verify'])).code, 0);
  await assertPrefixClean(t, store, prefix, ['a']);
  await assertCleanStore(t, store);
});

test('a truncated manifest of A active beside B: deactivate B works, deactivate A exits 4 with a hint; repair + re-add make all clean', async (t) => {
  const { dir, store, cli, add } = await setup(t);
  const prefix = path.join(dir, 'p');
  t.is((await cli(['activate', 'a', 'b', '--prefix', prefix])).code, 0);
  const idA = await truncateManifest(cli, store, 'a');

  const offB = await cli(['deactivate', 'b', '--prefix', prefix, '--json']);
  t.is(offB.code, 0, describe(offB));
  t.false(await exists(path.join(prefix, 'share/b')));
  t.is(
    await fsp.readFile(path.join(prefix, 'share/a/data.txt'), 'utf8'),
    A_DATA,
    "A's files are untouched",
  );

  const offA = await cli(['deactivate', 'a', '--prefix', prefix, '--json']);
  t.is(offA.code, 4, describe(offA));
  const e = jsonError(offA) as { code: string; subject?: string; hint?: string };
  t.is(e.code, 'EPSTORE_INTEGRITY');
  t.is(e.subject, 'a@1');
  t.regex(e.hint ?? '', /verify --repair/);
  // info and export meet it too, and say the same
  for (const args of [
    ['info', 'a@1', '--paths'],
    ['export', 'a@1', '-o', path.join(dir, 'a.b')],
  ]) {
    const r = await cli([...args, '--json']);
    t.is(r.code, 4, `${args[0]}: ${describe(r)}`);
    t.regex((jsonError(r) as { hint?: string }).hint ?? '', /verify --repair/, args[0]);
  }

  const repaired = verifyJson(t, await cli(['verify', '--repair', '--json']), 4);
  t.deepEqual(repaired.repaired?.entries, [{ id: idA, name: 'a', version: '1' }]);
  t.is((await add('a')).code, 0);
  await assertPrefixClean(t, store, prefix, ['a']);
  t.is((await cli(['deactivate', 'a', '--prefix', prefix])).code, 0);
  await assertPrefixClean(t, store, prefix, []);
  await assertCleanStore(t, store);
});

test('generations: a truncated manifest of a kept entry fails the next tree (exit 4 naming it), and the dry run answers the same', async (t) => {
  const { dir, store, cli } = await setup(t);
  const prefix = path.join(dir, 'g');
  t.is((await cli(['activate', 'a', '--prefix', prefix, '--layout', 'generations'])).code, 0);
  await truncateManifest(cli, store, 'a');
  for (const dry of [['--dry-run'], []]) {
    const r = await cli(['activate', 'b', '--prefix', prefix, ...dry, '--json']);
    t.is(r.code, 4, `${dry.join(' ') || 'the run'}: ${describe(r)}`);
    t.like(jsonError(r), { code: 'EPSTORE_INTEGRITY', subject: 'a@1' });
  }
  t.deepEqual(
    (await openStore({ path: store }).prefix(prefix).status()).packages.map((x) => x.name),
    ['a'],
    'nothing changed',
  );
});

/** A generations prefix's record of generation `n` (its state lies beside it, .pstore-NAME). */
async function generationRecord(prefix: string, n: number): Promise<Record<string, unknown>> {
  const meta = path.join(path.dirname(prefix), `.pstore-${path.basename(prefix)}`);
  const text = await fsp.readFile(path.join(meta, 'generations', `${n}.json`), 'utf8');
  return JSON.parse(text) as Record<string, unknown>;
}

test("generations: a tree hard-linked whole is recorded so, and the next tree looks again at a new entry's objects only (a kept one's damage is the tree's already); --verify rehashes all", async (t) => {
  const { dir, store, cli, objA, keyA } = await setup(t);
  const prefix = path.join(dir, 'g');
  t.is((await cli(['activate', 'a', '--prefix', prefix, '--layout', 'generations'])).code, 0);
  t.is((await generationRecord(prefix, 1)).hardLinked, true);
  // through the tree: the store's object is the same inode, so the tree shows the damage already
  await fsp.appendFile(path.join(prefix, 'share/a/data.txt'), 'root appended this\n');

  const r = await cli(['activate', 'b', '--prefix', prefix, '--json']);
  t.is(r.code, 0, describe(r));
  t.is((await generationRecord(prefix, 2)).hardLinked, true);
  t.is((await fsp.stat(path.join(prefix, 'share/a/data.txt'))).ino, (await fsp.stat(objA)).ino);

  t.is((await cli(['deactivate', 'b', '--prefix', prefix])).code, 0);
  const verified = await cli(['activate', 'b', '--prefix', prefix, '--verify', '--json']);
  t.is(verified.code, 4, describe(verified));
  t.is(jsonError(verified).subject, keyA, 'with --verify, the kept entry is rehashed too');

  // a new entry's object is looked at: b's, appended to in the store, refuses the tree
  const objB = objectPathOf(store, {
    integrity: sha512Integrity(Buffer.from(B_DATA)),
    exec: false,
  });
  await fsp.chmod(objB, 0o644);
  await fsp.appendFile(objB, 'appended in the store\n');
  const refused = await cli(['activate', 'b', '--prefix', prefix, '--json']);
  t.is(refused.code, 4, describe(refused));
  t.like(jsonError(refused), {
    code: 'EPSTORE_INTEGRITY',
    data: { reason: 'corrupt', path: 'share/b/data.txt' },
  });
});

/** What becomes of a kept entry's object in the store, and the reason the refusal gives. */
const UNLINKABLE = [
  { what: 'gone from the store (as `verify --repair` leaves it)', reason: 'missing', dir: false },
  { what: 'a directory in its place', reason: 'corrupt', dir: true },
] as const;

for (const { what, reason, dir: asDir } of UNLINKABLE) {
  test(`generations: a kept entry's object ${what} fails the next tree as the check would (exit 4, ${reason}), its dry run answers the same, and nothing changes`, async (t) => {
    const { dir, cli, add, objA, keyA } = await setup(t);
    const prefix = path.join(dir, 'g');
    t.is((await cli(['activate', 'a', '--prefix', prefix, '--layout', 'generations'])).code, 0);
    t.is((await generationRecord(prefix, 1)).hardLinked, true, 'the check passes over a');
    const meta = path.join(dir, '.pstore-g');
    const before = { tree: await listTree(prefix), state: await snapshotDir(meta) };
    await fsp.rm(objA);
    if (asDir) await fsp.mkdir(objA);

    for (const dry of [['--dry-run'], []]) {
      const r = await cli(['activate', 'b', '--prefix', prefix, ...dry, '--json']);
      t.is(r.code, 4, `${dry.join(' ') || 'the run'}: ${describe(r)}`);
      t.like(jsonError(r), {
        code: 'EPSTORE_INTEGRITY',
        subject: keyA,
        data: { reason, path: 'share/a/data.txt', entry: { name: 'a' } },
      });
    }
    t.deepEqual(
      { tree: await listTree(prefix), state: await snapshotDir(meta) },
      before,
      'the same tree and state: no journal, no new tree, no build left behind',
    );
    if (asDir) await fsp.rmdir(objA);
    t.is((await add('a')).code, 0);
    t.is((await cli(['activate', 'b', '--prefix', prefix])).code, 0);
    t.is(await fsp.readFile(path.join(prefix, 'share/a/data.txt'), 'utf8'), A_DATA);
  });
}

test("generations: the record trusted is the current generation's: after a rollback to a hard-linked tree from one of copies, kept objects are passed over again", async (t) => {
  const { dir, cli, objA, keyA } = await setup(t);
  const prefix = path.join(dir, 'g');
  t.is((await cli(['activate', 'a', '--prefix', prefix, '--layout', 'generations'])).code, 0);
  t.is((await cli(['activate', 'b', '--prefix', prefix, '--link', 'copy'])).code, 0);
  t.false('hardLinked' in (await generationRecord(prefix, 2)));
  await fsp.chmod(objA, 0o644);
  await fsp.appendFile(objA, 'appended in the store\n'); // generation 1's tree shares it

  const fromCopies = await cli(['deactivate', 'b', '--prefix', prefix, '--json']);
  t.is(fromCopies.code, 4, describe(fromCopies));
  t.is(jsonError(fromCopies).subject, keyA);
  t.is((await cli(['rollback', '--prefix', prefix])).code, 0);
  const fromLinks = await cli(['activate', 'b', '--prefix', prefix, '--json']);
  t.is(fromLinks.code, 0, describe(fromLinks));
  t.is((await generationRecord(prefix, 3)).hardLinked, true);
});

test('generations: a tree that recovery completed is not recorded hard-linked (it did not build it)', async (t) => {
  const { dir, cli } = await setup(t);
  const prefix = path.join(dir, 'g');
  const crashed = await cli(['activate', 'a', '--prefix', prefix, '--layout', 'generations'], {
    env: { PSTORE_TEST_CRASHPOINT: 'apply:before-switch' },
  });
  t.is(crashed.signal, 'SIGKILL', describe(crashed));
  const recovered = await cli(['recover', '--prefix', prefix, '--json']);
  t.is(recovered.code, 0, describe(recovered));
  t.like(jsonOut(recovered), { action: 'rolled-forward', generation: 1 });
  t.false('hardLinked' in (await generationRecord(prefix, 1)));
});

test("generations: a tree of copies (--link copy) is not recorded hard-linked, and a kept entry's damaged object refuses the next tree", async (t) => {
  const { dir, cli, objA, keyA } = await setup(t);
  const prefix = path.join(dir, 'g');
  const args = ['--prefix', prefix, '--layout', 'generations', '--link', 'copy'];
  t.is((await cli(['activate', 'a', ...args])).code, 0);
  t.false('hardLinked' in (await generationRecord(prefix, 1)));
  await fsp.chmod(objA, 0o644);
  await fsp.appendFile(objA, 'appended in the store\n'); // the tree's copy is intact
  const r = await cli(['activate', 'b', '--prefix', prefix, '--json']);
  t.is(r.code, 4, describe(r));
  t.like(jsonError(r), { code: 'EPSTORE_INTEGRITY', subject: keyA, data: { reason: 'corrupt' } });
  t.is(await fsp.readFile(path.join(prefix, 'share/a/data.txt'), 'utf8'), A_DATA);
});

test('a damaged manifest is rewritten by re-adding the same content (no repair needed)', async (t) => {
  const { store, cli, add } = await setup(t);
  const idA = jsonOut<{ id: string }>(await cli(['info', 'a', '--json'])).id;
  const manifest = manifestPathOf(store, idA);
  await fsp.chmod(manifest, 0o644);
  await fsp.appendFile(manifest, ' ');
  t.is((await cli(['verify'])).code, 4);
  t.is((await add('a')).code, 0);
  await assertCleanStore(t, store);
});

test('after verify --repair, importing a bundle that holds the entry restores it', async (t) => {
  const { dir, store, cli, objA } = await setup(t);
  const bundle = path.join(dir, 'a.pstore');
  t.is((await cli(['export', 'a', '-o', bundle])).code, 0);
  await flipByte(objA, 9);
  t.is((await cli(['verify', '--repair'])).code, 4);
  const r = await cli(['import', bundle, '--json']);
  t.is(r.code, 0, describe(r));
  t.is(await fsp.readFile(objA, 'utf8'), A_DATA);
  await assertCleanStore(t, store);
});

test('a truncated manifest of an active entry does not block gc: gc does everything but sweep objects, and says why', async (t) => {
  const { dir, store, cli, add } = await setup(t);
  const prefix = path.join(dir, 'p');
  t.is((await cli(['activate', 'a', '--prefix', prefix])).code, 0);
  const idA = await truncateManifest(cli, store, 'a');

  // b is unreferenced: gc --older-than 0 forgets it, but sweeps no object while a's are unknown.
  const gc = await cli(['gc', '--older-than', '0', '--json']);
  t.is(gc.code, 0, describe(gc));
  const r = jsonOut<{
    entriesRemoved: Array<{ name: string }>;
    objectsRemoved: number;
    damagedManifests: string[];
  }>(gc);
  t.deepEqual(
    r.entriesRemoved.map((e) => e.name),
    ['b'],
  );
  t.deepEqual(r.damagedManifests, [idA]);
  t.is(r.objectsRemoved, 0);
  t.is(await fsp.readFile(path.join(prefix, 'share/a/data.txt'), 'utf8'), A_DATA);
  const human = await cli(['gc', '--older-than', '0']);
  t.regex(human.stderr, /damaged .*verify --repair/);

  // Repaired and re-added, the next gc sweeps b's objects as usual.
  verifyJson(t, await cli(['verify', '--repair', '--json']), 4);
  t.is((await add('a')).code, 0);
  const after = jsonOut<{ objectsRemoved: number; damagedManifests: string[] }>(
    await cli(['gc', '--older-than', '0', '--json']),
  );
  t.deepEqual(after.damagedManifests, []);
  t.true(after.objectsRemoved > 0);
  await assertPrefixClean(t, store, prefix, ['a']);
  await assertCleanStore(t, store);
});

test('importing a bundle replaces a present object whose size no longer matches (no repair needed)', async (t) => {
  const { dir, store, cli, objA } = await setup(t);
  const bundle = path.join(dir, 'a.pstore');
  t.is((await cli(['export', 'a', '-o', bundle])).code, 0);
  await fsp.chmod(objA, 0o644);
  await fsp.appendFile(objA, 'appended through a hard link\n');
  await fsp.chmod(objA, 0o444);
  t.is((await cli(['verify'])).code, 4);
  const r = await cli(['import', bundle, '--json']);
  t.is(r.code, 0, describe(r));
  t.is(await fsp.readFile(objA, 'utf8'), A_DATA);
  await assertCleanStore(t, store);
});
