// `gc` removes what nothing refers to (objects of failed adds, tmp files) and nothing else; the
// index is a cache that comes back from the manifests.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { openStore, type Store } from '../../lib/index.js';
import { describe, jsonOut, storeCli } from '../_helpers/cli.js';
import { storeSnapshot } from '../_helpers/snapshot.js';
import {
  assertCleanStore,
  lsJson,
  objectFiles,
  referencedKeys,
  tmpFiles,
} from '../_helpers/store.js';
import { buildTar } from '../_helpers/tar.js';
import { copyStoreTemplate } from '../_helpers/templates.js';
import { buildTree, file } from '../_helpers/tree.js';
import { makeTemp, removeTree } from '../_helpers/tmp.js';

interface GcJson {
  dryRun: boolean;
  entriesRemoved: unknown[];
  objectsRemoved: number;
  bytesFreed: number;
  tmpRemoved: number;
}

/** Objects the failed add of the `orphaned` template left behind. */
const ORPHANS = 5;

// The stores the tests start from, made once through the library and copied into each test.
let root: string;
const tpl = { seeded: '', orphaned: '', rebuild: '' };
let keepId: string;
const rebuildIds = { a: '', b: '', c: '' };
/** the source of rebuild's first pkg@1.0 (re-added by a test) */
let rebuildOne: string;

test.before(async () => {
  root = await makeTemp('gc-templates');
  tpl.seeded = path.join(root, 'seeded');
  keepId = await addKeep(openStore({ path: tpl.seeded }));
  tpl.orphaned = path.join(root, 'orphaned');
  const orphaned = openStore({ path: tpl.orphaned });
  await addKeep(orphaned);
  await failedAdd(orphaned, ORPHANS);
  await rebuildTemplate();
});

test.after.always(async () => {
  await removeTree(root);
});

/** `keep@1`: three files, one executable. */
async function addKeep(store: Store): Promise<string> {
  const src = await buildTree(path.join(root, 'keep-src'), {
    'bin/tool': file('#!/bin/sh\n', 0o755),
    'share/a.txt': 'kept a\n',
    'share/b.txt': 'kept b\n',
  });
  const { id } = await store.add(src, { name: 'keep', version: '1' });
  await removeTree(src);
  return id;
}

/** A failed add that wrote `n` new objects before reaching a hostile member. */
async function failedAdd(store: Store, n: number): Promise<void> {
  const archive = path.join(root, 'hostile.tar');
  await fsp.writeFile(
    archive,
    buildTar([
      ...Array.from({ length: n }, (_, i) => ({
        path: `good/f${i}`,
        data: `orphaned object ${i}\n`.repeat(i + 1),
      })),
      { path: 'share/a.txt', data: 'kept a\n' }, // already in the store: not new
      { path: '../escape', data: 'x' },
    ]),
  );
  const err = await store.add(archive, { name: 'evil', version: '1' }).then(
    () => undefined,
    (e: unknown) => e as { code?: string },
  );
  if (err?.code !== 'EPSTORE_UNSAFE_PATH')
    throw new Error(`the hostile add was not refused: ${String(err)}`);
}

/** A copy of a template store and the CLI on it. */
async function copied(t: ExecutionContext, template: string) {
  const store = await copyStoreTemplate(t, template);
  return { store, cli: storeCli(store) };
}

test('gc removes the objects of a failed add and keeps every referenced object', async (t) => {
  const { store, cli } = await copied(t, tpl.orphaned);
  const referenced = await referencedKeys(store);
  t.is(referenced.size, 3);
  const before = await objectFiles(store);
  t.is(before.length, 3 + ORPHANS, 'the failed add left its objects behind');

  const gc = await cli(['gc', '--json']);
  t.is(gc.code, 0, describe(gc));
  const orphanBytes = before.filter((o) => !referenced.has(o.key)).reduce((n, o) => n + o.size, 0);
  t.like(jsonOut<GcJson>(gc), {
    dryRun: false,
    entriesRemoved: [],
    objectsRemoved: ORPHANS,
    bytesFreed: orphanBytes,
  });
  t.deepEqual((await objectFiles(store)).map((o) => o.key).sort(), [...referenced].sort());
  await assertCleanStore(t, store);
});

test('gc removes leftover temporary files', async (t) => {
  const { store, cli } = await copied(t, tpl.seeded);
  await fsp.mkdir(path.join(store, 'tmp'), { recursive: true });
  await fsp.writeFile(path.join(store, 'tmp', '.pstore-obj-99999-deadbeef0000'), 'half an object', {
    mode: 0o444,
  });
  await fsp.writeFile(path.join(store, 'tmp', 'stray'), 'x');
  await fsp.mkdir(path.join(store, 'tmp', 'leftover-dir', 'sub'), { recursive: true });
  await fsp.writeFile(path.join(store, 'tmp', 'leftover-dir', 'sub', 'f'), 'x');
  const gc = await cli(['gc', '--json']);
  t.is(gc.code, 0, describe(gc));
  t.like(jsonOut<GcJson>(gc), { tmpRemoved: 3, objectsRemoved: 0 });
  t.deepEqual(await tmpFiles(store), []);
  await assertCleanStore(t, store);
});

test('gc --dry-run removes nothing but reports what gc would remove', async (t) => {
  const { store, cli } = await copied(t, tpl.orphaned);
  await fsp.writeFile(path.join(store, 'tmp', '.pstore-obj-1-000000000000'), 'partial');
  const snap = await storeSnapshot(store);
  const listed = await lsJson(t, store);

  const dry = await cli(['gc', '--dry-run', '--json']);
  t.is(dry.code, 0, describe(dry));
  const report = jsonOut<GcJson>(dry);
  t.like(report, { dryRun: true, entriesRemoved: [], objectsRemoved: ORPHANS, tmpRemoved: 1 });
  t.true(report.bytesFreed > 0);
  t.deepEqual(await storeSnapshot(store), snap, 'the dry run changed nothing');
  t.deepEqual(await lsJson(t, store), listed);

  const human = await cli(['gc', '--dry-run']);
  t.is(human.code, 0);
  t.regex(human.stdout, new RegExp(`would remove 0 entries, ${ORPHANS} objects`));
  t.deepEqual(await storeSnapshot(store), snap);

  const real = await cli(['gc', '--json']);
  t.is(real.code, 0, describe(real));
  t.deepEqual(
    { ...jsonOut<GcJson>(real), dryRun: true },
    report,
    'the real gc removes exactly what the dry run reported',
  );
  await assertCleanStore(t, store);
});

test('gc fails closed: a kept entry whose manifest is unreadable keeps all of its objects', async (t) => {
  const { store, cli } = await copied(t, tpl.orphaned); // garbage gc would otherwise sweep
  const id = keepId;
  const objectsBefore = await objectFiles(store);
  const manifest = path.join(store, 'entries-v1', id.slice(0, 2), `${id.slice(2)}.json`);
  await fsp.chmod(manifest, 0o644);
  await fsp.writeFile(manifest, '{"formatVersion":1,"name":"keep"'); // damaged

  // The damage blocks only what needs the entry: gc runs, but sweeps no object it cannot vouch for.
  /** gc succeeds, names the entry as damaged and removes no object */
  const gcSparesAll = async (why: string) => {
    const gc = await cli(['gc', '--json']);
    t.is(gc.code, 0, describe(gc));
    t.deepEqual(jsonOut<{ damagedManifests: string[] }>(gc).damagedManifests, [id], why);
    t.deepEqual(await objectFiles(store), objectsBefore, `${why}: no object was removed`);
  };
  await gcSparesAll('the result names the entry');
  t.regex(
    (await cli(['gc'])).stderr,
    new RegExp(`damaged \\(${id.slice(0, 12)}\\).*verify --repair`),
  );

  await fsp.rm(manifest);
  await gcSparesAll('a missing manifest of an indexed entry is damage too');
});

/**
 * The rebuild template: pkg@1.0 added twice with other content (a, then b: the latest) and
 * other@0.1 (c), each add's manifest written at a later moment than the one before.
 */
async function rebuildTemplate(): Promise<void> {
  tpl.rebuild = path.join(root, 'rebuild');
  const store = openStore({ path: tpl.rebuild });
  rebuildOne = await buildTree(path.join(root, 'one'), {
    'f.txt': 'one\n',
    'bin/x': file('x\n', 0o755),
  });
  const two = await buildTree(path.join(root, 'two'), {
    'f.txt': 'two\n',
    'bin/x': file('x\n', 0o755),
  });
  const other = await buildTree(path.join(root, 'other'), { 'g.txt': 'other\n' });
  const adds = [
    ['a', rebuildOne, 'pkg', '1.0'],
    ['b', two, 'pkg', '1.0'],
    ['c', other, 'other', '0.1'],
  ] as const;
  for (const [key, src, name, version] of adds) {
    // the rebuilt index orders adds by manifest mtime: keep them apart as separate commands are
    await new Promise((resolve) => setTimeout(resolve, 50));
    rebuildIds[key] = (await store.add(src, { name, version })).id;
  }
}

/** A copy of the rebuild template, and the CLI steps the rebuild tests take on it. */
async function rebuildFixture(t: ExecutionContext) {
  const { store, cli } = await copied(t, tpl.rebuild);
  const add = async (src: string, name: string, version: string) => {
    const r = await cli(['add', src, '--name', name, '--version', version, '--json']);
    t.is(r.code, 0, describe(r));
    return jsonOut<{ id: string }>(r).id;
  };
  const resolve = async (ref: string) => {
    const r = await cli(['info', ref, '--json']);
    t.is(r.code, 0, `info ${ref}: ${describe(r)}`);
    return r.code === 0 ? jsonOut<{ id: string }>(r).id : undefined;
  };
  const dropIndex = () => fsp.rm(path.join(store, 'index-v1'), { recursive: true, force: true });
  const listing = async () =>
    (await lsJson(t, store)).map((e) => `${e.id} ${e.name}@${e.version}`).sort();
  return { one: rebuildOne, store, cli, add, resolve, dropIndex, listing, ...rebuildIds };
}

test('a deleted index is rebuilt from the manifests: ls lists every entry again', async (t) => {
  const { dropIndex, listing } = await rebuildFixture(t);
  const listed = await listing();
  t.is(listed.length, 3);
  await dropIndex();
  t.deepEqual(await listing(), listed, 'ls lists every entry again');
  t.deepEqual(await listing(), listed, 'and keeps listing them');
});

test('a deleted index is rebuilt from the manifests: NAME@VERSION is still the latest add', async (t) => {
  const { one, add, resolve, dropIndex, a, b, c } = await rebuildFixture(t);
  t.is(await resolve('pkg@1.0'), b, 'the second add of pkg@1.0 is the latest');
  await dropIndex();
  t.is(await resolve('pkg@1.0'), b, 'the latest add of pkg@1.0 is still the latest');
  t.is(await resolve('other@0.1'), c);

  // re-adding the first content makes it the latest, and that survives a rebuild too
  t.is(await add(one, 'pkg', '1.0'), a);
  t.is(await resolve('pkg@1.0'), a);
  await dropIndex();
  t.is(await resolve('pkg@1.0'), a, 'after the rebuild the re-added content is the latest');
});

test('gc straight after the index was deleted keeps every entry, manifest and object', async (t) => {
  const { store, cli, dropIndex, listing } = await rebuildFixture(t);
  const listed = await listing();
  const before = await storeSnapshot(store);
  await dropIndex();
  const gc = await cli(['gc', '--json']);
  t.is(gc.code, 0, describe(gc));
  t.like(jsonOut<GcJson>(gc), { entriesRemoved: [], objectsRemoved: 0 });
  t.deepEqual(await storeSnapshot(store), before, 'no manifest or object was removed');
  t.deepEqual(await listing(), listed);
  await assertCleanStore(t, store);
});
