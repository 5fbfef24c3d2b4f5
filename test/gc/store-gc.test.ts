// `gc` removes what nothing refers to (objects of failed adds, tmp files) and nothing else; the
// index is a cache that comes back from the manifests.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
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
import { buildTree, file } from '../_helpers/tree.js';
import { tempDir, tempStore } from '../_helpers/tmp.js';

interface GcJson {
  dryRun: boolean;
  entriesRemoved: unknown[];
  objectsRemoved: number;
  bytesFreed: number;
  tmpRemoved: number;
}

async function seeded(t: ExecutionContext) {
  const dir = await tempDir(t, 'gc');
  const src = await buildTree(path.join(dir, 'src'), {
    'bin/tool': file('#!/bin/sh\n', 0o755),
    'share/a.txt': 'kept a\n',
    'share/b.txt': 'kept b\n',
  });
  const store = await tempStore(t);
  const cli = storeCli(store);
  const r = await cli(['add', src, '--name', 'keep', '--version', '1', '--json']);
  t.is(r.code, 0, describe(r));
  return { dir, src, store, cli, id: jsonOut<{ id: string }>(r).id };
}

/** A failed add that wrote `n` new objects before reaching a hostile member. */
async function failedAdd(
  t: ExecutionContext,
  dir: string,
  cli: ReturnType<typeof storeCli>,
  n: number,
): Promise<void> {
  const archive = path.join(dir, 'hostile.tar');
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
  const r = await cli(['add', archive, '--name', 'evil', '--version', '1']);
  t.is(r.code, 7, describe(r));
}

test('gc removes the objects of a failed add and keeps every referenced object', async (t) => {
  const { dir, store, cli } = await seeded(t);
  const referenced = await referencedKeys(store);
  t.is(referenced.size, 3);
  await failedAdd(t, dir, cli, 5);
  const before = await objectFiles(store);
  t.is(before.length, 3 + 5, 'the failed add left its objects behind');

  const gc = await cli(['gc', '--json']);
  t.is(gc.code, 0, describe(gc));
  const orphanBytes = before.filter((o) => !referenced.has(o.key)).reduce((n, o) => n + o.size, 0);
  t.like(jsonOut<GcJson>(gc), {
    dryRun: false,
    entriesRemoved: [],
    objectsRemoved: 5,
    bytesFreed: orphanBytes,
  });
  t.deepEqual((await objectFiles(store)).map((o) => o.key).sort(), [...referenced].sort());
  await assertCleanStore(t, store);
});

test('gc removes leftover temporary files', async (t) => {
  const { store, cli } = await seeded(t);
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
  const { dir, store, cli } = await seeded(t);
  await failedAdd(t, dir, cli, 4);
  await fsp.writeFile(path.join(store, 'tmp', '.pstore-obj-1-000000000000'), 'partial');
  const snap = await storeSnapshot(store);
  const listed = await lsJson(t, store);

  const dry = await cli(['gc', '--dry-run', '--json']);
  t.is(dry.code, 0, describe(dry));
  const report = jsonOut<GcJson>(dry);
  t.like(report, { dryRun: true, entriesRemoved: [], objectsRemoved: 4, tmpRemoved: 1 });
  t.true(report.bytesFreed > 0);
  t.deepEqual(await storeSnapshot(store), snap, 'the dry run changed nothing');
  t.deepEqual(await lsJson(t, store), listed);

  const human = await cli(['gc', '--dry-run']);
  t.is(human.code, 0);
  t.regex(human.stdout, /would remove 0 entries, 4 objects/);
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
  const { dir, store, cli, id } = await seeded(t);
  await failedAdd(t, dir, cli, 2); // garbage gc would otherwise sweep
  const objectsBefore = await objectFiles(store);
  const manifest = path.join(store, 'entries-v1', id.slice(0, 2), `${id.slice(2)}.json`);
  await fsp.chmod(manifest, 0o644);
  await fsp.writeFile(manifest, '{"formatVersion":1,"name":"keep"'); // damaged

  // The damage blocks only what needs the entry: gc runs, but sweeps no object it cannot vouch for.
  const gc = await cli(['gc', '--json']);
  t.is(gc.code, 0, describe(gc));
  t.deepEqual(
    jsonOut<{ damagedManifests: string[] }>(gc).damagedManifests,
    [id],
    'the result names the entry',
  );
  t.deepEqual(await objectFiles(store), objectsBefore, 'no object was removed');
  t.regex(
    (await cli(['gc'])).stderr,
    new RegExp(`damaged \\(${id.slice(0, 12)}\\).*verify --repair`),
  );

  await fsp.rm(manifest);
  const gc2 = await cli(['gc', '--json']);
  t.is(gc2.code, 0, describe(gc2));
  t.deepEqual(
    jsonOut<{ damagedManifests: string[] }>(gc2).damagedManifests,
    [id],
    'a missing manifest of an indexed entry is damage too',
  );
  t.deepEqual(await objectFiles(store), objectsBefore, 'still no object was removed');
});

async function rebuildFixture(t: ExecutionContext) {
  const dir = await tempDir(t, 'rebuild');
  const one = await buildTree(path.join(dir, 'one'), {
    'f.txt': 'one\n',
    'bin/x': file('x\n', 0o755),
  });
  const two = await buildTree(path.join(dir, 'two'), {
    'f.txt': 'two\n',
    'bin/x': file('x\n', 0o755),
  });
  const other = await buildTree(path.join(dir, 'other'), { 'g.txt': 'other\n' });
  const store = await tempStore(t);
  const cli = storeCli(store);
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
  const a = await add(one, 'pkg', '1.0');
  const b = await add(two, 'pkg', '1.0');
  const c = await add(other, 'other', '0.1');
  t.is(await resolve('pkg@1.0'), b);
  return { one, store, cli, add, resolve, dropIndex, listing, a, b, c };
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
