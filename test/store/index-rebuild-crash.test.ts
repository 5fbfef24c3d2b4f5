// The index is a cache of the manifests. A rebuild killed part-way must not leave a partial index
// behind: index-v1 is absent or holds every entry (read here from LevelDB itself, since `ls`
// registers what the index lacks before it answers), and the next commands see every entry.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { openStore } from '../../lib/index.js';
import { listEntryIds } from '../../lib/store/index-entries.js';
import { hasCurrent, openIndexFiles } from '../../lib/store/index-files.js';
import { storeLayout } from '../../lib/store/layout.js';
import { describe, finished, jsonOut, spawnCli, storeCli } from '../_helpers/cli.js';
import { storeSnapshot } from '../_helpers/snapshot.js';
import {
  assertCleanStore,
  canonicalManifest,
  entryIdOf,
  lsJson,
  manifestPathOf,
} from '../_helpers/store.js';
import { buildTree, describeTree, file } from '../_helpers/tree.js';
import { tempDir, tempStore } from '../_helpers/tmp.js';

const BULK = 200;

test.serial(
  'an index rebuild killed at named points and at random moments publishes no partial index',
  async (t) => {
    const src = await buildTree(path.join(await tempDir(t, 'rebuild-src'), 'src'), {
      'bin/tool': file('#!/bin/sh\n', 0o755),
      'share/a.txt': 'a\n',
      'share/b.txt': 'b\n',
    });
    const store = await tempStore(t);
    const cli = storeCli(store);
    // the first entry through the library: setup; the commands after the kills are the contract
    const first = await openStore({ path: store }).add(src, { name: 'real', version: '1' });

    // Many more entries over the same objects, written as manifest files directly (a manifest is the
    // durable record of an entry; the index is rebuilt from these), with increasing mtimes.
    const files = await describeTree(src);
    const ids: string[] = [first.id];
    const base = Date.now() / 1000 - BULK - 10;
    for (let i = 0; i < BULK; i++) {
      const text = canonicalManifest('bulk', `1.${i}`, [], files);
      const id = entryIdOf(text);
      const file = manifestPathOf(store, id);
      await fsp.mkdir(path.dirname(file), { recursive: true });
      await fsp.writeFile(file, text, { mode: 0o444 });
      await fsp.utimes(file, base + i, base + i);
      ids.push(id);
    }
    const expected = [...ids].sort();
    const snapshot = await storeSnapshot(store);
    /** Entries not listed, summarized so a failure stays readable. */
    const missingFrom = (listed: Array<{ id: string }>): string[] => {
      const have = new Set(listed.map((e) => e.id));
      const missing = expected.filter((id) => !have.has(id));
      return missing.length > 3
        ? [...missing.slice(0, 3), `... ${missing.length} of ${expected.length} missing`]
        : missing;
    };

    // Named points: after the first and the 100th entry registered, and before the publishing rename.
    for (const point of [
      'index:after-register#1',
      'index:after-register#100',
      'index:before-publish',
    ]) {
      await fsp.rm(path.join(store, 'index-v1'), { recursive: true, force: true });
      const builds = (await buildDirs(store)).length;
      const r = await finished(
        spawnCli(['--store', store, 'ls', '--json'], { env: { PSTORE_TEST_CRASHPOINT: point } }),
        120_000,
      );
      t.is(r.signal, 'SIGKILL', `killed at ${point}: ${describe(r)}`);
      t.is((await buildDirs(store)).length, builds + 1, `a rebuild was under way at ${point}`);
      t.deepEqual(await indexedIds(store), 'absent', `nothing published at ${point}`);
    }

    const delays = Array.from({ length: 4 }, () => 30 + Math.floor(Math.random() * 500));
    t.log(`kill delays (ms): ${delays.join(', ')}`);
    for (const ms of delays) {
      await fsp.rm(path.join(store, 'index-v1'), { recursive: true, force: true });
      const child = spawnCli(['--store', store, 'ls', '--json']);
      const done = finished(child, 120_000);
      const timer = setTimeout(() => child.kill('SIGKILL'), ms);
      const r = await done;
      clearTimeout(timer);
      await assertAbsentOrWhole(t, store, expected, `after a kill at ${ms} ms`);
      if (r.code === 0)
        t.deepEqual(
          missingFrom(jsonOut<Array<{ id: string }>>(r)),
          [],
          `an ls that finished within ${ms} ms lists everything`,
        );
    }

    const listed = await lsJson(t, store);
    t.deepEqual(missingFrom(listed), [], 'every entry is listed after the interrupted rebuilds');
    t.is(listed.length, expected.length);
    // NAME alone is ambiguous among BULK versions; the candidates come in add order
    const latest = await cli(['info', 'bulk', '--json']);
    t.is(latest.code, 7, describe(latest));
    const candidates = (
      JSON.parse(latest.stderr) as { error: { data: { candidates: Array<{ version: string }> } } }
    ).error.data.candidates;
    t.is(candidates.at(-1)?.version, `1.${BULK - 1}`, 'mtime order gives the latest add');
    // gc removes no manifest or object, and sweeps the killed rebuilds' directories once they are
    // an hour old (a younger one may be a rebuild under way: builds take no store lock)
    const killed = await buildDirs(store);
    t.true(killed.length >= 3, `the named kills' builds are left: ${killed.join(' ')}`);
    const young = await cli(['gc', '--json']);
    t.is(young.code, 0, describe(young));
    t.like(jsonOut(young), { entriesRemoved: [], objectsRemoved: 0 });
    t.deepEqual(await buildDirs(store), killed, 'young builds are kept');
    const hoursAgo = new Date(Date.now() - 2 * 3600_000);
    for (const n of killed) await fsp.utimes(path.join(store, n), hoursAgo, hoursAgo);
    const gc = await cli(['gc', '--json']);
    t.is(gc.code, 0, describe(gc));
    t.like(jsonOut(gc), { entriesRemoved: [], objectsRemoved: 0 });
    t.deepEqual(await buildDirs(store), [], 'builds an hour old are swept');
    t.deepEqual(await storeSnapshot(store), snapshot, 'no manifest or object was removed');
    await assertCleanStore(t, store);
  },
);

/** Build directories a killed rebuild left beside index-v1 (gc sweeps them after an hour). */
async function buildDirs(store: string): Promise<string[]> {
  return (await fsp.readdir(store)).filter((n) => n.startsWith('index-v1.build-'));
}

/** The entry ids index-v1 holds, read from LevelDB itself, or 'absent'. */
async function indexedIds(store: string): Promise<string[] | 'absent'> {
  const layout = storeLayout(store);
  if (!(await hasCurrent(layout))) return 'absent';
  const db = await openIndexFiles(layout);
  try {
    return (await listEntryIds(db)).sort();
  } finally {
    await db.close();
  }
}

async function assertAbsentOrWhole(
  t: ExecutionContext,
  store: string,
  expected: string[],
  when: string,
): Promise<void> {
  const ids = await indexedIds(store);
  if (ids !== 'absent')
    t.deepEqual(ids, expected, `${when}: the index holds every entry or is absent`);
}
