// lib/txn/journal.ts and lib/prefix/state.ts: the one reader of each state record checks its
// schema (SPEC.md §Prefix state, §Journal format). An absent record is "none"; a present but
// malformed one is EPSTORE_INTEGRITY naming the file, never mistaken for "none".

import test, { type ExecutionContext } from 'ava';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { rejects } from '../_helpers/errors.js';
import { prefixPaths, generationFile, type PrefixPaths } from '../../lib/prefix/layout.js';
import {
  detectPrefix,
  listGenerationNumbers,
  readCurrent,
  readCurrentGeneration,
  readGeneration,
  readPrefixRecord,
} from '../../lib/prefix/state.js';
import { newTxid, readJournal, type Journal } from '../../lib/txn/journal.js';
import { fakeId } from '../_helpers/manifests.js';
import { tempDir } from '../_helpers/tmp.js';

async function freshPrefix(t: ExecutionContext): Promise<PrefixPaths> {
  const p = prefixPaths(path.join(await tempDir(t, 'state-unit'), 'prefix'), 'inplace');
  await fsp.mkdir(p.generations, { recursive: true });
  return p;
}

async function put(file: string, value: unknown): Promise<void> {
  await fsp.writeFile(file, typeof value === 'string' ? value : JSON.stringify(value));
}

const damaged = (t: ExecutionContext, read: Promise<unknown>, file: string) =>
  rejects(t, read, 'EPSTORE_INTEGRITY', file);

const PKG = { name: 'alpha', version: '1.0', id: fakeId('alpha') };

function journal(): Journal {
  return {
    formatVersion: 1,
    txid: newTxid(),
    kind: 'activate',
    layout: 'inplace',
    link: 'auto',
    startedAt: '2024-01-01T00:00:00Z',
    from: { generation: 0, packages: [] },
    to: { generation: 1, packages: [PKG], newGeneration: true },
  };
}

test('absent records: no journal, generation 0 current, no prefix record', async (t) => {
  const p = await freshPrefix(t);
  t.is(await readJournal(p), undefined);
  t.deepEqual(await readCurrent(p), { formatVersion: 1, generation: 0, highest: 0 });
  t.is(await readPrefixRecord(p), undefined);
  t.deepEqual((await readGeneration(p, 0))?.packages, []);
  t.is(await readGeneration(p, 3), undefined);
});

test('a journal round-trips; a damaged one is EPSTORE_INTEGRITY naming it', async (t) => {
  const p = await freshPrefix(t);
  const j = journal();
  t.regex(j.txid, /^[0-9a-f]{12}$/);
  await put(p.journal, j);
  t.deepEqual(await readJournal(p), j);
  for (const bad of [
    '',
    'null',
    '{}',
    '[]',
    '{"formatVersion": 1, ',
    { ...j, formatVersion: 2 },
    { ...j, txid: '../../etc' },
    { ...j, kind: 'explode' },
    { ...j, link: 'symlink' },
    { ...j, to: { ...j.to, generation: 0 } },
    { ...j, from: { generation: -1, packages: [] } },
    { ...j, from: { generation: 1.5, packages: [] } },
    { ...j, to: { ...j.to, packages: [{ ...PKG, id: 'ABC' }] } },
    { ...j, to: { generation: 1, packages: [PKG] } },
  ]) {
    await put(p.journal, bad);
    await damaged(t, readJournal(p), p.journal);
  }
});

test('current.json: highest may not be below the current generation', async (t) => {
  const p = await freshPrefix(t);
  await put(p.current, { formatVersion: 1, generation: 2, highest: 3 });
  t.deepEqual(await readCurrent(p), { formatVersion: 1, generation: 2, highest: 3 });
  for (const bad of [
    { formatVersion: 1, generation: 3, highest: 2 },
    { formatVersion: 1, generation: '2', highest: 3 },
    { formatVersion: 1, generation: -1, highest: 3 },
    'not json',
  ]) {
    await put(p.current, bad);
    await damaged(t, readCurrent(p), p.current);
  }
});

test('a generation record must name its own number; the current one must exist', async (t) => {
  const p = await freshPrefix(t);
  const record = { formatVersion: 1, generation: 2, createdAt: 'x', packages: [PKG] };
  await put(generationFile(p, 2), record);
  t.deepEqual(await readGeneration(p, 2), record);
  await put(generationFile(p, 5), record); // a copy of 2 under another name
  await damaged(t, readGeneration(p, 5), generationFile(p, 5));
  await put(generationFile(p, 6), { ...record, generation: 6, packages: [{ name: 'x' }] });
  await damaged(t, readGeneration(p, 6), generationFile(p, 6));
  await damaged(
    t,
    readCurrentGeneration(p, { formatVersion: 1, generation: 4, highest: 4 }),
    generationFile(p, 4),
  );
  await put(path.join(p.generations, 'notes.txt'), 'x');
  await put(path.join(p.generations, '10.json.tmp'), 'x');
  t.deepEqual(await listGenerationNumbers(p), [2, 5, 6]);
});

test('prefix.json: its layout and store are checked; history without it is refused, not restarted', async (t) => {
  const p = await freshPrefix(t);
  t.is(await detectPrefix(p.dir), undefined, 'an empty state directory is no prefix yet');
  const record = { formatVersion: 1, layout: 'inplace', store: '/s', createdAt: 'x' };
  await put(p.prefixFile, { ...record, layout: 'overlay' });
  await damaged(t, readPrefixRecord(p), p.prefixFile);
  await put(p.prefixFile, record);
  t.deepEqual((await detectPrefix(p.dir))?.record, record);
  // lose prefix.json while a generation record remains: refused, naming the missing file
  await fsp.rm(p.prefixFile);
  await put(generationFile(p, 1), {
    formatVersion: 1,
    generation: 1,
    createdAt: 'x',
    packages: [],
  });
  await damaged(t, detectPrefix(p.dir), p.prefixFile);
});
