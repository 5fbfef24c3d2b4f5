// Issue 7, class 5: a full disk is reported as such (exit 9, EPSTORE_NO_SPACE naming a path, never
// "the operation stalled"), nothing is left staged in <store>/tmp, objects already present are not
// written again, reading commands and gc work on the full filesystem, and once space is freed the
// same command succeeds. Real small tmpfs mounts, filled for real.

import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { describe, jsonOut, storeCli, type CliResult } from '../_helpers/cli.js';
import {
  assertRefused,
  fillFilesystem,
  leaveFree,
  mountTmpfs,
  rootTest,
} from '../_helpers/environment.js';
import { assertCleanStore, lsJson, tmpFiles } from '../_helpers/store.js';
import { buildTar } from '../_helpers/tar.js';
import { buildTree } from '../_helpers/tree.js';
import { tempDir } from '../_helpers/tmp.js';

const MiB = 1024 * 1024;
/** over STREAM_THRESHOLD (8 MiB): streamed through the hasher, the path that stalled */
const BIG = 10 * MiB;
const SLOW = { timeoutMs: 120_000 };

interface Fx {
  mnt: string;
  store: string;
  work: string;
  cli: ReturnType<typeof storeCli>;
  filler: string;
}

/** A store on a 24 MiB tmpfs holding one small entry, and the filesystem filled to the last byte. */
async function fullStore(t: ExecutionContext): Promise<Fx> {
  const mnt = await mountTmpfs(t, { size: '24m' });
  const store = path.join(mnt, 'store');
  const work = await tempDir(t, 'full-disk');
  const cli = storeCli(store);
  const seed = await buildTree(path.join(work, 'seed'), { 'share/seed.txt': 'seed\n' });
  const r = await cli(['add', seed, '--name', 'seed', '--version', '1']);
  t.is(r.code, 0, describe(r));
  return { mnt, store, work, cli, filler: await fillFilesystem(mnt) };
}

async function ok(t: ExecutionContext, r: Promise<CliResult>, what: string): Promise<CliResult> {
  const done = await r;
  t.is(done.code, 0, `${what}: ${describe(done)}`);
  return done;
}

/** While the filesystem is full to the last byte: ls, info, verify and gc all work. */
async function readersWorkWhileFull(t: ExecutionContext, f: Fx): Promise<void> {
  await fillFilesystem(f.mnt);
  t.deepEqual(
    (await lsJson(t, f.store)).map((e) => e.name),
    ['seed'],
    'ls on a full disk',
  );
  await ok(t, f.cli(['info', 'seed', '--paths']), 'info on a full disk');
  await ok(t, f.cli(['verify']), 'verify on a full disk');
  const gc = await ok(t, f.cli(['gc', '--json']), 'gc on a full disk');
  t.like(jsonOut(gc), { entriesRemoved: [] });
  t.deepEqual(await tmpFiles(f.store), [], 'gc emptied tmp/ on the full disk');
}

/** The refused command left nothing staged and no new entry. */
async function nothingLeft(t: ExecutionContext, f: Fx): Promise<void> {
  t.deepEqual(await tmpFiles(f.store), [], 'nothing is left in <store>/tmp');
  t.deepEqual(
    (await lsJson(t, f.store)).map((e) => e.name),
    ['seed'],
    'no entry was added',
  );
}

/**
 * With only `free` bytes left, `args` exits 9 EPSTORE_NO_SPACE and leaves nothing; readers and gc
 * work on the full disk; once the filler is gone the same command succeeds and the store is clean.
 */
async function refusedUntilFreed(
  t: ExecutionContext,
  f: Fx,
  args: string[],
  free: number,
): Promise<void> {
  await leaveFree(f.filler, free);
  assertRefused(t, await f.cli([...args, '--json'], SLOW), 'EPSTORE_NO_SPACE', f.store);
  await nothingLeft(t, f);
  await readersWorkWhileFull(t, f);
  await fsp.rm(f.filler);
  await ok(t, f.cli(args, SLOW), 'the same command with space');
  await assertCleanStore(t, f.store);
}

rootTest(
  'add of a tar with a member over 8 MiB on a full disk: exit 9 EPSTORE_NO_SPACE, nothing staged; after freeing space the same add succeeds',
  async (t) => {
    const f = await fullStore(t);
    const archive = path.join(f.work, 'big.tar');
    await fsp.writeFile(
      archive,
      buildTar([
        { path: 'share/big.bin', data: randomBytes(BIG) },
        { path: 'share/small.txt', data: 'small\n' },
      ]),
    );
    await refusedUntilFreed(t, f, ['add', archive, '--name', 'big', '--version', '1'], 4 * MiB);
    t.deepEqual((await lsJson(t, f.store)).map((e) => e.name).sort(), ['big', 'seed']);
  },
);

rootTest(
  'add of a directory on a full disk (large and small files): exit 9 EPSTORE_NO_SPACE, nothing staged; then it succeeds',
  async (t) => {
    const f = await fullStore(t);
    const small = Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [`share/s${i}.txt`, randomBytes(64 * 1024)]),
    );
    const src = await buildTree(path.join(f.work, 'tree'), {
      'share/big.bin': randomBytes(BIG),
      ...small,
    });
    await refusedUntilFreed(t, f, ['add', src, '--name', 'tree', '--version', '1'], 2 * MiB);
    t.deepEqual((await lsJson(t, f.store)).map((e) => e.name).sort(), ['seed', 'tree']);
  },
);

rootTest(
  'import on a full disk: exit 9 EPSTORE_NO_SPACE and no staging left; re-importing objects the store has stages nothing',
  async (t) => {
    const f = await fullStore(t);
    const source = path.join(f.work, 'source-store');
    const src = await buildTree(path.join(f.work, 'tree'), {
      'share/big.bin': randomBytes(BIG),
      'share/note.txt': 'note\n',
    });
    await ok(
      t,
      storeCli(source)(['add', src, '--name', 'bundled', '--version', '1']),
      'add to the source store',
    );
    const bundle = path.join(f.work, 'b.pstore');
    await ok(t, storeCli(source)(['export', 'bundled', '-o', bundle]), 'export');

    await refusedUntilFreed(t, f, ['import', bundle], 4 * MiB);
    // 1 MiB free: far less than the 10 MiB object, which the store has already.
    const filler = await fillFilesystem(f.mnt);
    await leaveFree(filler, 1 * MiB);
    const again = await ok(
      t,
      f.cli(['import', bundle, '--json'], SLOW),
      're-import with 1 MiB free',
    );
    t.like(jsonOut(again), { objectsImported: 0, objectsPresent: 2 });
    t.deepEqual(await tmpFiles(f.store), []);
    await fsp.rm(filler);
    t.deepEqual((await lsJson(t, f.store)).map((e) => e.name).sort(), ['bundled', 'seed']);
    await assertCleanStore(t, f.store);
  },
);

rootTest(
  'gc on a full disk removes unreferenced entries even though the index cannot be written; the index comes back without them',
  async (t) => {
    const f = await fullStore(t);
    await fsp.rm(f.filler);
    const loose = await buildTree(path.join(f.work, 'loose'), {
      'share/loose.bin': randomBytes(2 * MiB),
    });
    await ok(t, f.cli(['add', loose, '--name', 'loose', '--version', '1']), 'add loose');
    await fillFilesystem(f.mnt);
    const gc = await ok(
      t,
      f.cli(['gc', '--older-than', '0', '--json']),
      'gc --older-than 0 on a full disk',
    );
    t.deepEqual(
      jsonOut<{ entriesRemoved: Array<{ name: string }> }>(gc)
        .entriesRemoved.map((e) => e.name)
        .sort(),
      ['loose', 'seed'],
    );
    t.deepEqual(await lsJson(t, f.store), [], 'ls on the still full disk lists nothing');
    await fsp.rm(path.join(f.mnt, '.filler'));
    t.deepEqual(await lsJson(t, f.store), [], 'nor after space is freed');
    await assertCleanStore(t, f.store);
  },
);
