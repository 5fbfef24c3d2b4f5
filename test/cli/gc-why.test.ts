// gc answers before it acts (issue 10): `gc --dry-run` names every entry it would remove
// (NAME@VERSION for people, ids in JSON) and removes nothing; `gc --why REF` says which prefix and
// generation keep an entry, or only the grace period, or a missing prefix, or nothing.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { openStore } from '../../lib/index.js';
import { describe, jsonOut } from '../_helpers/cli.js';
import { serialAdd } from '../_helpers/prefix-fixtures.js';
import { snapshotDir, storeSnapshot } from '../_helpers/snapshot.js';
import { buildTree } from '../_helpers/tree.js';
import { storeWorkspace } from '../_helpers/store.js';

interface Why {
  id: string;
  name: string;
  version: string;
  kept: boolean;
  prefixes: Array<{
    prefix: string;
    generations: number[];
    current: boolean;
    transaction: boolean;
  }>;
  missingPrefixes: string[];
  withinGrace: boolean;
}

async function setup(t: import('ava').ExecutionContext) {
  const { dir, store, prefix, cli, ok } = await storeWorkspace(t, 'gcwhy');
  // setup through the library: the gc runs are what this file spawns
  const opened = openStore({ path: store });
  const ids: Record<string, string> = {};
  for (const ref of ['a@1', 'a@2', 'b@1', 'c@1', 'c@1.10']) {
    const [name, version] = ref.split('@') as [string, string];
    const src = await buildTree(path.join(dir, 'src', ref), { [`share/${name}`]: `${ref}\n` });
    ids[ref] = (await serialAdd(() => opened.add(src, { name, version }))).id;
  }
  await opened.prefix(prefix).activate(['a@1', 'b@1']);
  await opened.prefix(prefix).activate(['a@2']);
  /** everything but LevelDB's own files, which change on every open */
  const state = async () => ({
    tree: await snapshotDir(dir, { exclude: ['store'] }),
    store: await storeSnapshot(store),
  });
  return { dir, store, prefix, cli, ok, ids, state };
}

test('gc --dry-run names what it would remove and removes nothing', async (t) => {
  const { ok, ids, state } = await setup(t);
  const before = await state();
  const human = await ok(['gc', '--dry-run', '--older-than', '0']);
  const lines = human.stdout.trimEnd().split('\n');
  t.deepEqual(lines.slice(0, 2), [
    `would remove  c@1     ${ids['c@1']!.slice(0, 12)}`,
    `would remove  c@1.10  ${ids['c@1.10']!.slice(0, 12)}`,
  ]);
  t.regex(
    lines[2]!,
    /^would remove 2 entries, 2 objects \(\d+ B\), 0 temporary files; kept 3 entries$/,
  );
  const json = jsonOut<{ entriesRemoved: Array<{ id: string }> }>(
    await ok(['gc', '--dry-run', '--older-than', '0', '--json']),
  );
  t.deepEqual(json.entriesRemoved.map((e) => e.id).sort(), [ids['c@1'], ids['c@1.10']].sort());
  t.deepEqual(await state(), before, 'a dry run changes nothing');
  // with the default grace nothing just added is removed, and none is named
  t.regex((await ok(['gc', '--dry-run'])).stdout, /^would remove 0 entries/);
});

test('gc --why: the generations that keep an entry, the grace period, or nothing', async (t) => {
  const { prefix, ok, cli, ids, state } = await setup(t);
  const why = async (ref: string, ...extra: string[]) =>
    jsonOut<Why>(await ok(['gc', '--why', ref, '--json', ...extra]));

  const before = await state();
  t.like(await why('a@1', '--older-than', '0'), {
    id: ids['a@1'],
    kept: true,
    prefixes: [{ prefix, generations: [1], current: false, transaction: false }],
    withinGrace: false,
  });
  t.like(await why('b@1', '--older-than', '0'), {
    prefixes: [{ prefix, generations: [1, 2], current: true }],
  });
  t.like(await why('c@1'), { kept: true, prefixes: [], withinGrace: true });
  t.like(await why('c@1', '--older-than', '0'), { kept: false, prefixes: [], withinGrace: false });

  const human = async (...args: string[]) => (await ok(['gc', '--why', ...args])).stdout;
  t.is(
    await human('b@1', '--older-than', '0'),
    `b@1 (${ids['b@1']!.slice(0, 12)}) is kept by:\n  ${prefix}: generations 1, 2, active now\n`,
  );
  t.regex(await human('a@1', '--older-than', '0'), /^ {2}.+: generation 1\n$/m);
  t.regex(await human('c@1'), /is kept by:\n {2}the grace period: last added \S+, within 24h\n$/);
  t.regex(
    await human('c@1', '--older-than', '0'),
    /^c@1 \(\w{12}\) is kept by nothing: gc would remove it/,
  );
  t.deepEqual(await state(), before, '--why changes nothing');

  const unknown = await cli(['gc', '--why', 'nope']);
  t.is(unknown.code, 6, describe(unknown));
  t.true(unknown.stderr.includes('nope'));

  // a registered prefix whose state is missing keeps every entry
  await fsp.rename(prefix, `${prefix}.away`);
  t.like(await why('c@1', '--older-than', '0'), { kept: true, missingPrefixes: [prefix] });
  t.regex(
    await human('c@1', '--older-than', '0'),
    /the prefix .+ is missing: gc keeps every entry/,
  );
});
