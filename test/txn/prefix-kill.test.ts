// Kills at moments no crash point names: a 2000-file upgrade SIGKILLed a random 5–150 ms after its
// journal appears, again and again; gc killed between forgetting entries and sweeping objects; and a
// killed transaction whose recovery cannot roll forward.
// After each: a reading command recovers, the prefix is exactly the old or the new version (tree
// hash), `verify` is clean, and a Python client of the crashed prefix saw no half-installed package.
//
// Default: 3 random kills; PSTORE_TORTURE=1: 40.

import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { openStore } from '../../lib/index.js';
import { describe, finished, jsonOut, spawnCli, storeCli } from '../_helpers/cli.js';
import {
  addWithStore,
  assertHolds,
  castPackage,
  castStore,
  pstoreLeftovers,
  pyPackage,
} from '../_helpers/prefix-fixtures.js';
import { exists } from '../_helpers/txn-trees.js';
import { assertReaderSeesNoHalfPackage } from '../_helpers/pyprefix.js';
import { assertCleanStore, lsJson, objectPathOf } from '../_helpers/store.js';
import { removeTree, tempDir, tempStore } from '../_helpers/tmp.js';
import { sizeFor } from '../_helpers/torture.js';

const sha512 = (data: Buffer) => `sha512-${createHash('sha512').update(data).digest('base64')}`;

const SLOW = { timeoutMs: 300_000 };

test('crash: a 2000-file upgrade killed at random moments always recovers to old or new', async (t) => {
  const iterations = sizeFor(3, 40);
  const work = await tempDir(t, 'random-kill');
  const bigStore = await tempStore(t);
  const s = openStore({ path: bigStore });
  const big = (v: string) => pyPackage('bulky', v, { bulk: 2000, pth: true });
  const versions = ['1.0', '2.0'];
  for (const v of versions) await addWithStore(s, work, big(v));
  // Record each version's hash on the prefix itself (1.0, then a clean upgrade to 2.0).
  const prefix = path.join(work, 'prefix');
  const p = s.prefix(prefix);
  const hashes = new Map<string, string>();
  for (const v of versions) {
    await p.activate([`bulky@${v}`]);
    hashes.set(v, (await p.hash()).digest);
  }
  await assertHolds(t, prefix, [big('2.0')]);
  const cli = storeCli(bigStore);
  const journal = path.join(prefix, '.pstore', 'journal.json');
  let current = '2.0';
  let killedMidway = 0;
  const outcomes: string[] = [];
  for (let i = 0; i < iterations; i++) {
    const target = current === '1.0' ? '2.0' : '1.0';
    const child = spawnCli([
      '--store',
      bigStore,
      'activate',
      `bulky@${target}`,
      '--prefix',
      prefix,
      '-q',
    ]);
    const done = finished(child, 120_000);
    let exited = false;
    void done.then(() => {
      exited = true;
    });
    // The clock starts when the transaction does (its journal appears), not at process start:
    // node's own startup takes longer than the window being tested.
    while (!exited && !(await exists(journal))) await new Promise((r) => setTimeout(r, 1));
    const delay = 5 + Math.floor(Math.random() * 146);
    await new Promise((r) => setTimeout(r, delay));
    const wasRunning = !exited;
    child.kill('SIGKILL');
    const res = await done;
    if (wasRunning && res.signal === 'SIGKILL') killedMidway++;
    else t.is(res.code, 0, describe(res));
    await assertReaderSeesNoHalfPackage(
      t,
      prefix,
      `iteration ${i}, killed ${delay} ms into the transaction`,
    );

    // 2000 files on a loaded machine: more than the default 60 s kill timeout of a CLI call
    const st = await cli(['status', '--prefix', prefix, '--json'], SLOW);
    t.is(st.code, 0, describe(st));
    t.false(await exists(journal), 'status recovered');
    const digest = (await p.hash()).digest;
    const outcome =
      digest === hashes.get(target) ? target : digest === hashes.get(current) ? current : undefined;
    t.truthy(
      outcome,
      `iteration ${i} (${current} → ${target}, kill after ${delay} ms): the tree is exactly one of the two versions`,
    );
    t.like(await p.verify(), { ok: true }, `iteration ${i}: verify --prefix`);
    t.deepEqual(await pstoreLeftovers(prefix), [], `iteration ${i}: no leftovers`);
    const status = jsonOut<{ packages: Array<{ version: string }> }>(st);
    t.deepEqual(
      status.packages.map((x) => x.version),
      [outcome],
      'status names the version on disk',
    );
    outcomes.push(
      `${current}→${target} +${delay}ms${wasRunning ? ' killed' : ' finished'}: ${outcome === target ? 'new' : 'old'}`,
    );
    current = outcome ?? current;
  }
  t.log(outcomes.join('\n'));
  await assertHolds(t, prefix, [big(current)]);
  t.true(killedMidway > 0, 'at least one kill landed while the transaction ran');
});

/** A store of its own with alpha 1.0, beta 1.0 and `more`, and a prefix holding alpha and beta. */
async function castPrefix(t: ExecutionContext, label: string, ...more: string[]) {
  const cast = await castStore(label, ['alpha@1.0', 'beta@1.0', ...more]);
  t.teardown(() => removeTree(cast.root));
  const opened = openStore({ path: cast.store });
  const prefix = path.join(cast.root, 'prefix');
  const p = opened.prefix(prefix);
  await p.activate(['alpha@1.0', 'beta@1.0']);
  return { ...cast, opened, prefix, p };
}

test('crash: gc killed before its sweep leaves a valid store, and a rerun completes', async (t) => {
  const { store: gcStore, prefix, p, opened } = await castPrefix(t, 'gc-crash', 'gamma@1.0');
  await p.deactivate(['beta']);
  await p.prune({ keep: 1 }); // beta is now named by no generation; gamma never was
  const hashBefore = (await p.hash()).digest;
  const cli = storeCli(gcStore);
  const crashed = await cli(['gc', '--older-than', '0'], {
    env: { PSTORE_TEST_CRASHPOINT: 'gc:before-sweep' },
  });
  t.is(crashed.signal, 'SIGKILL', describe(crashed));
  const v = await opened.verify();
  t.true(v.ok, `store verify after the killed gc: ${JSON.stringify(v.problems)}`);
  t.deepEqual(
    (await lsJson(t, gcStore)).map((e) => `${e.name}@${e.version}`),
    ['alpha@1.0'],
    'the unrooted entries were forgotten before the kill',
  );
  t.like(await p.verify(), { ok: true }, 'verify --prefix after the killed gc');

  const again = await cli(['gc', '--older-than', '0', '--json']);
  t.is(again.code, 0, describe(again));
  t.true(
    jsonOut<{ objectsRemoved: number }>(again).objectsRemoved > 0,
    'the rerun sweeps what the killed gc left',
  );
  await assertCleanStore(t, gcStore);
  t.is((await p.hash()).digest, hashBefore, 'the prefix is untouched');
  t.like(await p.verify(), { ok: true }, 'verify --prefix after the rerun');
  // and the prefix still works: a transaction after gc
  const r = await cli(['activate', 'alpha@1.0', '--prefix', prefix, '--json']);
  t.like(jsonOut<{ noop: boolean }>(r), { noop: true });
});

// Recovery that cannot roll forward rolls back, exactly. The killed upgrade needs an object the
// store has lost meanwhile (deleted here by hand, as damage would): re-applying fails, so the
// reverse plan restores the old generation.
test('crash: when recovery cannot roll forward it rolls back to exactly the old generation', async (t) => {
  const {
    store: ownStore,
    root: work,
    prefix,
    p,
    opened: s,
  } = await castPrefix(t, 'revert', 'alpha@2.0');
  const oldHash = (await p.hash()).digest;
  const cli = storeCli(ownStore);
  for (const point of ['apply:file#2', 'apply:after-files']) {
    const r = await cli(['activate', 'alpha@2.0', '--prefix', prefix], {
      env: { PSTORE_TEST_CRASHPOINT: point },
    });
    t.is(r.signal, 'SIGKILL', describe(r));
    // alpha 2.0's feature.py exists only in 2.0: lose its object
    const feature = castPackage('alpha', '2.0').tree.get(
      'usr/lib/python3/dist-packages/alpha/feature.py',
    ) as { data: Buffer };
    const obj = objectPathOf(ownStore, { integrity: sha512(feature.data), exec: false });
    const inPrefix = path.join(prefix, 'usr/lib/python3/dist-packages/alpha/feature.py');
    // after apply:after-files the file is already in the prefix (a hard link): take that too, or
    // re-applying would find it in place
    await fsp.rm(obj, { force: true });
    await fsp.rm(inPrefix, { force: true });

    const rec = await cli(['recover', '--prefix', prefix, '--json']);
    t.is(rec.code, 0, `${point}: ${describe(rec)}`);
    t.like(jsonOut<{ recovered: boolean; action: string; generation: number }>(rec), {
      recovered: true,
      action: 'rolled-back',
      generation: 1,
    });
    t.is((await p.hash()).digest, oldHash, `${point}: the old generation's tree exactly`);
    await assertHolds(t, prefix, [castPackage('alpha', '1.0'), castPackage('beta', '1.0')]);
    t.like(await p.verify(), { ok: true }, `${point}: verify --prefix`);
    t.deepEqual(await pstoreLeftovers(prefix), []);
    t.deepEqual(
      (await p.generations()).map((g) => [g.generation, g.current]),
      [[1, true]],
      'no generation 2 was recorded',
    );
    await assertReaderSeesNoHalfPackage(t, prefix, `${point}: after the roll-back`);
    // re-adding restores the object; the upgrade then works
    await addWithStore(s, work, castPackage('alpha', '2.0'));
  }
  const r = await cli(['activate', 'alpha@2.0', '--prefix', prefix, '--json']);
  t.is(r.code, 0, describe(r));
  t.like(jsonOut<{ generation: number }>(r), { generation: 2 });
  await assertHolds(t, prefix, [castPackage('alpha', '2.0'), castPackage('beta', '1.0')]);
});
