// ProgressEvent totals through the library (issue 10): add from a directory knows its files and
// bytes once walked; from a tar, the archive's size (file, or a stream given its size); import
// the bundle's size. Every event is narrowed by its phase and carries its unit.

import { createReadStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { openStore, type ProgressEvent } from '../../lib/index.js';
import { buildTar } from '../_helpers/tar.js';
import { buildTree, manyFiles } from '../_helpers/tree.js';
import { tempDir } from '../_helpers/tmp.js';

function collect(): { events: ProgressEvent[]; onProgress: (e: ProgressEvent) => void } {
  const events: ProgressEvent[] = [];
  return { events, onProgress: (e) => events.push({ ...e }) };
}

/** bytes never go backwards and never past the total */
function checkBytes(t: import('ava').ExecutionContext, events: readonly ProgressEvent[]): void {
  let last = 0;
  for (const e of events) {
    t.true((e.bytes ?? 0) >= last, JSON.stringify(e));
    if (e.totalBytes !== undefined) t.true((e.bytes ?? 0) <= e.totalBytes, JSON.stringify(e));
    last = e.bytes ?? 0;
  }
}

test('add from a directory: the walk gives total (files) and totalBytes before any file is hashed', async (t) => {
  const dir = await tempDir(t, 'progress-dir');
  const src = await buildTree(path.join(dir, 'src'), {
    ...manyFiles(300),
    'big/x': 'x'.repeat(70_000),
  });
  const store = openStore({ path: path.join(dir, 'store') });
  const { events, onProgress } = collect();
  const entry = await store.add(src, { name: 'p', version: '1', onProgress });
  const [walking, ...walked] = events;
  t.deepEqual(
    walking,
    { phase: 'ingest', unit: 'files', done: 0, bytes: 0 },
    'shown during the walk',
  );
  t.true(walked.length >= 1);
  for (const e of walked) {
    t.is(e.phase, 'ingest');
    if (e.phase !== 'ingest') continue;
    t.is(e.unit, 'files');
    t.is(e.total, 301, 'every event after the walk knows the file count');
    t.is(e.totalBytes, entry.bytes, 'and the bytes of all files');
  }
  t.is(walked[0]!.done, 0, 'announced before the first file');
  checkBytes(t, events);
});

test('add from a tar: progress by the archive bytes read, out of its size (a file, or a sized stream)', async (t) => {
  const dir = await tempDir(t, 'progress-tar');
  const tar = path.join(dir, 'p.tar');
  const members = Array.from({ length: 200 }, (_, i) => ({
    path: `f${i}`,
    data: `${i}`.repeat(900),
  }));
  await fsp.writeFile(tar, buildTar(members));
  const size = (await fsp.stat(tar)).size;
  const store = openStore({ path: path.join(dir, 'store') });

  const fromFile = collect();
  await store.add(tar, { name: 'p', version: '1', onProgress: fromFile.onProgress });
  const fromStream = collect();
  const stream = { tar: createReadStream(tar), size };
  await store.add(stream, { name: 'p', version: '2', onProgress: fromStream.onProgress });
  for (const { events } of [fromFile, fromStream]) {
    t.true(events.length >= 1);
    t.true(
      events.every((e) => e.phase === 'ingest' && e.totalBytes === size && e.total === undefined),
      JSON.stringify(events),
    );
    checkBytes(t, events);
  }
  const unsized = collect();
  await store.add(
    { tar: createReadStream(tar) },
    { name: 'p', version: '3', onProgress: unsized.onProgress },
  );
  t.true(unsized.events.length >= 1, 'progress without a size too');
  t.true(
    unsized.events.every((e) => e.totalBytes === undefined),
    'no size given: none claimed',
  );
});

test('import: members and bundle bytes, out of the bundle file size', async (t) => {
  const dir = await tempDir(t, 'progress-import');
  const src = await buildTree(path.join(dir, 'src'), manyFiles(50));
  const store = openStore({ path: path.join(dir, 'store') });
  await store.add(src, { name: 'p', version: '1' });
  const bundle = path.join(dir, 'b.bundle');
  await store.export(['p@1'], bundle);
  const size = (await fsp.stat(bundle)).size;
  const { events, onProgress } = collect();
  await openStore({ path: path.join(dir, 'other') }).import(bundle, { onProgress });
  t.true(events.length >= 1);
  for (const e of events) {
    t.is(e.phase, 'import');
    t.is(e.unit, 'members');
    t.is(e.totalBytes, size);
  }
  t.is(events[0]!.done, 0, 'announced before the first member');
  checkBytes(t, events);
});

test('add of files given in memory (and so of a wheel): the totals are known before the first file', async (t) => {
  const dir = await tempDir(t, 'progress-list');
  const store = openStore({ path: path.join(dir, 'store') });
  const files = [
    { path: 'lib', type: 'dir' as const },
    { path: 'lib/a.py', data: 'a = 1\n' },
    { path: 'lib/b.bin', data: new Uint8Array(5000) },
    { path: 'lib/c', type: 'symlink' as const, target: 'a.py' },
  ];
  const { events, onProgress } = collect();
  await store.add({ files }, { name: 'mem', version: '1', onProgress });
  t.true(events.length >= 1);
  t.deepEqual(
    events[0],
    { phase: 'ingest', unit: 'files', done: 0, bytes: 0, total: 2, totalBytes: 5006 },
    'announced with both totals (the regular files only)',
  );
  for (const e of events) t.is(e.phase === 'ingest' && e.total, 2);
  checkBytes(t, events);
});
