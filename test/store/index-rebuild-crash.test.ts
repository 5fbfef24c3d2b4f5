// The index is a cache of the manifests. A rebuild killed part-way must not leave a partial index
// behind: the next command sees every entry, and gc, which trusts the index, deletes nothing.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { openStore } from '../../lib/index.js';
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
  'an index rebuild killed at random moments loses no entry, and gc afterwards deletes nothing',
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

    await fsp.rm(path.join(store, 'index-v1'), { recursive: true, force: true });
    const delays = Array.from({ length: 4 }, () => 30 + Math.floor(Math.random() * 500));
    t.log(`kill delays (ms): ${delays.join(', ')}`);
    for (const ms of delays) {
      const child = spawnCli(['--store', store, 'ls', '--json']);
      const done = finished(child, 120_000);
      const timer = setTimeout(() => child.kill('SIGKILL'), ms);
      const r = await done;
      clearTimeout(timer);
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
    const gc = await cli(['gc', '--json']);
    t.is(gc.code, 0, describe(gc));
    t.like(jsonOut(gc), { entriesRemoved: [], objectsRemoved: 0 });
    t.deepEqual(await storeSnapshot(store), snapshot, 'no manifest or object was removed');
    await assertCleanStore(t, store);
  },
);
