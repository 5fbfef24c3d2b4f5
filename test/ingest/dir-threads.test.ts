// A directory ingest split over two threads (lib/ingest/dir-threads.ts): the main thread and a
// worker take whole files from one list. Whatever thread stores a file, the entry, its objects and
// objectsWritten are those of one thread; a worker's failure is the error one thread reports, and
// leaves nothing under a final name; a SIGKILL from inside the worker recovers as any killed add.
// PSTORE_TEST_INGEST_WORKER_ONLY=1 makes the worker take every file, so its path is the one run.

import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { describe, jsonOut, storeCli, type CliResult } from '../_helpers/cli.js';
import {
  assertRefused,
  fillFilesystem,
  leaveFree,
  mountTmpfs,
  rootTest,
} from '../_helpers/environment.js';
import {
  assertCleanStore,
  expectedEntryId,
  listedIds,
  objectFiles,
  objectPathOf,
  tmpFiles,
} from '../_helpers/store.js';
import { buildTree, describeTree, file, manyFiles, symlink } from '../_helpers/tree.js';
import { tempDir, tempStore } from '../_helpers/tmp.js';

const KiB = 1024;
const ONE = { PSTORE_INGEST_THREADS: '1' };
const TWO = { PSTORE_INGEST_THREADS: '2' };
const WORKER = { PSTORE_INGEST_THREADS: '2', PSTORE_TEST_INGEST_WORKER_ONLY: '1' };
const MODES = { 'one thread': ONE, 'two threads': TWO, 'the worker alone': WORKER };
const NAME = ['--name', 'many', '--version', '1'];
const SLOW = { timeoutMs: 120_000 };

/**
 * 600 small files of which 150 repeat others' bytes, the same bytes plain and executable, files
 * hashed off the main thread (256 KiB to 8 MiB) and copies of them, a streamed one, symlinks.
 */
async function manyTree(t: ExecutionContext): Promise<string> {
  const big = randomBytes(300 * KiB);
  const streamed = randomBytes(8 * 1024 * KiB + 1);
  return buildTree(path.join(await tempDir(t, 'threads'), 'many'), {
    ...manyFiles(600, { distinct: 450, prefix: 'usr/share/many/d' }),
    'bin/tool': file('#!/bin/sh\necho tool\n', 0o755),
    'share/tool.txt': '#!/bin/sh\necho tool\n',
    'lib/big.so': file(big, 0o755),
    'lib/big-copy.so': file(big, 0o755),
    'lib/big.dat': big,
    'lib/streamed.bin': streamed,
    'lib/link': symlink('big.so'),
    'share/empty': '',
    'var/empty': {},
  });
}

async function add(store: string, src: string, env: Record<string, string>): Promise<CliResult> {
  return storeCli(store)(['add', src, ...NAME, '--json'], { env, ...SLOW });
}

test('one thread, two threads and the worker alone: the same id, objects and objectsWritten; a re-add writes none', async (t) => {
  const src = await manyTree(t);
  const id = expectedEntryId('many', '1', [], await describeTree(src));
  const seen: Array<{ objects: unknown; written: number }> = [];
  for (const [mode, env] of Object.entries(MODES)) {
    const store = await tempStore(t);
    const r = await add(store, src, env);
    t.is(r.code, 0, `${mode}: ${describe(r)}`);
    const out = jsonOut<{ id: string; objectsWritten: number }>(r);
    t.is(out.id, id, `${mode}: the described id`);
    const objects = (await objectFiles(store)).map(({ key, mode: m, size }) => ({ key, m, size }));
    seen.push({ objects, written: out.objectsWritten });
    t.is(out.objectsWritten, objects.length, `${mode}: each object written once`);
    await assertCleanStore(t, store);
    const again = await add(store, src, env);
    t.is(jsonOut<{ objectsWritten: number }>(again).objectsWritten, 0, `${mode}: a re-add`);
  }
  t.deepEqual(seen[1], seen[0], 'two threads store what one does');
  t.deepEqual(seen[2], seen[0], 'the worker alone stores what one thread does');
});

/** The object path of a plain file holding `text`. */
function objectOf(store: string, text: string): string {
  const integrity = `sha512-${createHash('sha512').update(text).digest('base64')}`;
  return objectPathOf(store, { integrity, exec: false });
}

test("a file the worker cannot place fails the add with one thread's error; nothing is left in tmp/ or under the object's name", async (t) => {
  const src = await buildTree(
    path.join(await tempDir(t, 'threads-fail'), 'many'),
    manyFiles(400, { prefix: 'usr/share/many/d' }),
  );
  const failures: unknown[] = [];
  for (const env of [ONE, WORKER]) {
    const store = await tempStore(t);
    // a directory where one file's object goes: its rename fails (EISDIR)
    const blocked = objectOf(store, 'content 333\n');
    await fsp.mkdir(path.join(blocked, 'in-the-way'), { recursive: true });
    const r = await add(store, src, env);
    t.is(r.code, 1, describe(r));
    const { error } = JSON.parse(r.stderr) as { error: { code: string; message: string } };
    failures.push({ code: error.code, message: error.message.replaceAll(store, 'STORE') });
    t.deepEqual(await tmpFiles(store), [], 'nothing staged is left');
    t.deepEqual(await fsp.readdir(blocked), ['in-the-way'], 'nothing placed at the name');
    t.deepEqual(await listedIds(store), [], 'no entry');
  }
  // the temp file's name differs by process, its directory by thread; the rest is the same error
  const generic = (f: unknown) =>
    JSON.stringify(f).replace(/tmp\/(t\d+\/)?\.pstore-obj-[0-9a-z-]+/g, 'tmp/.pstore-obj-TEMP');
  t.is(generic(failures[1]), generic(failures[0]), 'the worker fails as one thread does');
});

rootTest(
  'a full disk under the worker: exit 9 EPSTORE_NO_SPACE, nothing staged; with space the same add succeeds',
  async (t) => {
    const mnt = await mountTmpfs(t, { size: '16m' });
    const store = path.join(mnt, 'store');
    const src = await buildTree(path.join(await tempDir(t, 'threads-full'), 'many'), {
      ...Object.fromEntries(
        Array.from({ length: 300 }, (_, i) => [`share/d${i % 7}/s${i}`, randomBytes(16 * KiB)]),
      ),
    });
    const seed = await buildTree(path.join(mnt, 'seed'), { 'seed.txt': 'seed\n' });
    const seeded = await storeCli(store)(['add', seed, '--name', 'seed', '--version', '0']);
    t.is(seeded.code, 0, describe(seeded));
    const filler = await fillFilesystem(mnt);
    await leaveFree(filler, 1024 * KiB);
    assertRefused(t, await add(store, src, WORKER), 'EPSTORE_NO_SPACE', store);
    t.deepEqual(await tmpFiles(store), [], 'nothing is left in <store>/tmp');
    t.is((await listedIds(store)).length, 1, 'only the seed entry');
    await fsp.rm(filler);
    const r = await add(store, src, WORKER);
    t.is(r.code, 0, describe(r));
    await assertCleanStore(t, store);
  },
);

test('SIGKILL from inside the worker at an object rename: at most the objects before it, then add again, verify, gc', async (t) => {
  const src = await buildTree(
    path.join(await tempDir(t, 'threads-kill'), 'many'),
    manyFiles(400, { prefix: 'usr/share/many/d' }),
  );
  const id = expectedEntryId('many', '1', [], await describeTree(src));
  const store = await tempStore(t);
  const killed = await storeCli(store)(['add', src, ...NAME, '--json'], {
    env: { ...WORKER, PSTORE_TEST_CRASHPOINT: 'object:before-rename#5' },
    ...SLOW,
  });
  t.is(killed.signal, 'SIGKILL', describe(killed));
  t.is(killed.stdout, '', 'no result printed');
  t.true((await objectFiles(store)).length <= 4, 'at most the four objects before the fifth');
  const left = await tmpFiles(store);
  t.true(left.length >= 1, 'the fifth is still a temp file');
  t.true(
    left.every((n) => /^t\d+\/\.pstore-obj-/.test(n)),
    `in the worker's own temp directory, not the main thread's tmp/: ${left.join(' ')}`,
  );
  t.deepEqual(await listedIds(store), [], 'no entry');
  const again = await add(store, src, {});
  t.is(again.code, 0, describe(again));
  t.is(jsonOut<{ id: string }>(again).id, id);
  const gc = await storeCli(store)(['gc', '--json']);
  t.is(gc.code, 0, describe(gc));
  await assertCleanStore(t, store);
});
