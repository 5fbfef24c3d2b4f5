// Rollback exactness across six generations, in both layouts: after `rollback --to K` the owned
// tree hashes to what it hashed to when K was made, and lists exactly K's packages (checked against
// the fixtures, not against pstore); numbers are never reused, prune forgets, and in the
// generations layout a rollback is a symlink switch to a tree that was kept.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { openStore } from '../../lib/index.js';
import { describe, jsonOut, storeCli } from '../_helpers/cli.js';
import {
  CAST_PACKAGES,
  assertHolds,
  castStore,
  expectedListing,
  prefixListing,
  pstoreLeftovers,
  type CastStore,
} from '../_helpers/prefix-fixtures.js';
import { removeTree, tempDir } from '../_helpers/tmp.js';
import type { GenJson, PkgJson, TxnJson } from '../_helpers/json.js';

let cast: CastStore;
let store: string;

test.before(async () => {
  cast = await castStore('rollback-store', [...CAST_PACKAGES, 'gamma@2.0', 'delta@1.0']);
  store = cast.store;
});

test.after.always(async () => {
  await removeTree(cast.root);
});

/** Six generations: activate, upgrade, add a package, deactivate, two upgrades at once, two adds. */
const BUILD: string[][] = [
  ['activate', 'alpha@1.0', 'beta@1.0'],
  ['activate', 'alpha@2.0'],
  ['activate', 'gamma@1.0'],
  ['deactivate', 'beta'],
  ['activate', 'alpha@3.0', 'gamma@2.0'],
  ['activate', 'beta@2.0', 'delta@1.0'],
];

function applyStep(set: Map<string, string>, step: readonly string[]): Map<string, string> {
  const next = new Map(set);
  const [verb, ...args] = step;
  for (const a of args) {
    if (verb === 'activate') next.set(a.split('@')[0]!, a);
    else next.delete(a);
  }
  return next;
}

const sortRefs = (xs: PkgJson[]) => xs.map((p) => `${p.name}@${p.version}`).sort();

function rollbackMacro(layout: 'inplace' | 'generations') {
  return async (t: ExecutionContext) => {
    const cli = storeCli(store);
    const work = await tempDir(t, `rb-${layout}`);
    const prefix = path.join(work, 'prefix');
    const meta =
      layout === 'inplace' ? path.join(prefix, '.pstore') : path.join(work, '.pstore-prefix');
    const sets: Array<Map<string, string>> = [new Map()];
    const hashes: string[] = [''];
    const listings: string[][] = [[]];
    const treeInodes: number[] = [0];

    const packagesOf = (set: Map<string, string>) => cast.pkgs(set.values());
    // The tree digest and the prefix check are this test's instruments, read through the library
    // (`hash` and `verify --prefix` have their CLI contracts in cli/prefix-contract and
    // txn/activate); the rollbacks, activations and prunes under test are spawned.
    const lib = () => openStore({ path: store }).prefix(prefix);
    const hashOf = () => lib().hash();
    const generations = async (): Promise<GenJson[]> => {
      const r = await cli(['generations', '--prefix', prefix, '--json']);
      t.is(r.code, 0, describe(r));
      return jsonOut<GenJson[]>(r);
    };
    const verify = async (what: string) => {
      const r = await cli(['verify', '--prefix', prefix, '--json']);
      t.is(r.code, 0, `${what}: ${describe(r)}`);
    };
    const verifyLib = async (what: string) => {
      t.like(await lib().verify(), { ok: true, missing: [], modified: [], strays: [] }, what);
    };

    // Build generations 1..6, recording the hash and the full owned-tree listing of each.
    for (const [i, step] of BUILD.entries()) {
      const k = i + 1;
      const r = await cli([
        ...step,
        '--prefix',
        prefix,
        ...(k === 1 ? ['--layout', layout] : []),
        '--json',
      ]);
      t.is(r.code, 0, describe(r));
      t.is(jsonOut<TxnJson>(r).generation, k);
      sets[k] = applyStep(sets[k - 1]!, step);
      const h = await hashOf();
      t.is(h.generation, k);
      hashes[k] = h.digest;
      listings[k] = await prefixListing(prefix);
      t.deepEqual(
        listings[k],
        expectedListing(packagesOf(sets[k]!)),
        `generation ${k} holds exactly its packages`,
      );
      if (layout === 'generations') {
        t.is(
          await fsp.readlink(prefix),
          path.join('.pstore-prefix', 'trees', String(k)),
          'DIR points at the new tree',
        );
        treeInodes[k] = (await fsp.stat(path.join(meta, 'trees', String(k)))).ino;
      }
    }
    t.is(new Set(hashes.slice(1)).size, 6, 'six different trees, six different hashes');

    const gens = await generations();
    t.deepEqual(
      gens.map((g) => g.generation),
      [1, 2, 3, 4, 5, 6],
    );
    for (const g of gens) {
      t.deepEqual(
        Object.keys(g).sort(),
        ['command', 'createdAt', 'current', 'generation', 'packages'],
        'generations --json fields',
      );
      t.false(Number.isNaN(Date.parse(g.createdAt)), `createdAt is a date: ${g.createdAt}`);
      t.is(g.current, g.generation === 6);
      t.deepEqual(sortRefs(g.packages), [...sets[g.generation]!.values()].sort());
      for (const p of g.packages) t.is(p.id, cast.get(`${p.name}@${p.version}`).id);
    }

    // Roll back to each K in a scrambled order: the hash and the listing are K's exactly.
    let current = 6;
    const check = async (k: number, what: string) => {
      const h = await hashOf();
      t.is(h.generation, k, `${what}: current generation`);
      t.is(h.digest, hashes[k]!, `${what}: hash equals generation ${k}'s`);
      t.deepEqual(
        await prefixListing(prefix),
        listings[k],
        `${what}: listing equals generation ${k}'s`,
      );
      await assertHolds(
        t,
        prefix,
        packagesOf(sets[k]!),
        `${what}: generation ${k}'s packages, exactly`,
      );
      await verifyLib(what);
      const g = await lib().generations();
      t.deepEqual(
        g.map((x) => x.generation),
        [1, 2, 3, 4, 5, 6],
        `${what}: rollback records no new generation`,
      );
      t.deepEqual(
        g.filter((x) => x.current).map((x) => x.generation),
        [k],
      );
      t.deepEqual(await pstoreLeftovers(await fsp.realpath(prefix)), []);
      if (layout === 'generations') {
        t.is(
          await fsp.readlink(prefix),
          path.join('.pstore-prefix', 'trees', String(k)),
          `${what}: DIR is a symlink to tree ${k}`,
        );
        t.deepEqual(
          (await fsp.readdir(path.join(meta, 'trees'))).sort(),
          ['1', '2', '3', '4', '5', '6'],
          'every tree is kept until prune',
        );
        t.is(
          (await fsp.stat(path.join(meta, 'trees', String(k)))).ino,
          treeInodes[k]!,
          'the same tree, not a rebuilt one',
        );
      }
    };
    for (const k of [3, 1, 5, 2, 6, 4]) {
      const r = await cli(['rollback', '--prefix', prefix, '--to', String(k), '--json']);
      t.is(r.code, 0, describe(r));
      const j = jsonOut<TxnJson>(r);
      t.like(j, { generation: k, previousGeneration: current, noop: false });
      const from = new Set(sets[current]!.values());
      const to = new Set(sets[k]!.values());
      t.deepEqual(
        sortRefs(j.activated),
        [...to].filter((x) => !from.has(x)).sort(),
        `rollback ${current}→${k}: activated`,
      );
      t.deepEqual(
        sortRefs(j.deactivated),
        [...from].filter((x) => !to.has(x)).sort(),
        `rollback ${current}→${k}: deactivated`,
      );
      await check(k, `rollback --to ${k}`);
      current = k;
    }

    // Plain rollback: the previous number.
    for (const k of [3, 2]) {
      const r = await cli(['rollback', '--prefix', prefix, '--json']);
      t.is(r.code, 0, describe(r));
      t.like(jsonOut<TxnJson>(r), { generation: k, previousGeneration: current });
      await check(k, `plain rollback from ${current}`);
      current = k;
    }
    const same = await cli(['rollback', '--prefix', prefix, '--to', '2']);
    t.is(same.code, 2, `rollback to the current generation is a usage error: ${describe(same)}`);

    // After a rollback, the next generation is 7: numbers are never reused.
    let r = await cli(['activate', 'delta@1.0', '--prefix', prefix, '--json']);
    t.is(r.code, 0, describe(r));
    t.like(jsonOut<TxnJson>(r), { generation: 7, previousGeneration: 2 });
    sets[7] = applyStep(sets[2]!, ['activate', 'delta@1.0']);
    await assertHolds(t, prefix, packagesOf(sets[7]!));
    await verify('after activating on top of a rollback');

    // prune --keep 1: only 7 is left; rollback has nowhere to go; numbers keep increasing.
    r = await cli(['prune', '--prefix', prefix, '--keep', '1', '--json']);
    t.is(r.code, 0, describe(r));
    t.deepEqual(jsonOut<{ removed: number[]; kept: number[] }>(r), {
      prefix: jsonOut<{ prefix: string }>(r).prefix,
      removed: [1, 2, 3, 4, 5, 6],
      kept: [7],
    });
    t.deepEqual(
      (await generations()).map((g) => [g.generation, g.current]),
      [[7, true]],
    );
    if (layout === 'generations')
      t.deepEqual(await fsp.readdir(path.join(meta, 'trees')), ['7'], 'pruned trees are deleted');
    for (const args of [[], ['--to', '3'], ['--to', '99']]) {
      const rb = await cli(['rollback', '--prefix', prefix, ...args, '--json']);
      t.is(rb.code, 6, `rollback ${args.join(' ') || '(previous)'} after prune: ${describe(rb)}`);
    }
    await assertHolds(t, prefix, packagesOf(sets[7]!), 'failed rollbacks changed nothing');
    r = await cli(['deactivate', 'delta', '--prefix', prefix, '--json']);
    t.is(r.code, 0, describe(r));
    t.like(jsonOut<TxnJson>(r), { generation: 8, previousGeneration: 7 });
    r = await cli(['prune', '--prefix', prefix, '--keep', '0', '--json']);
    t.is(r.code, 0, describe(r));
    t.deepEqual(jsonOut<{ kept: number[] }>(r).kept, [8], 'the current generation is always kept');
    r = await cli(['activate', 'delta@1.0', '--prefix', prefix, '--json']);
    t.like(jsonOut<TxnJson>(r), { generation: 9, previousGeneration: 8 });
    // rolling back to 8 then activating again still gives 10, not 9
    r = await cli(['rollback', '--prefix', prefix, '--json']);
    t.like(jsonOut<TxnJson>(r), { generation: 8 });
    r = await cli(['prune', '--prefix', prefix, '--keep', '0', '--json']);
    t.deepEqual(jsonOut<{ removed: number[] }>(r).removed, [9]);
    r = await cli(['activate', 'gamma@2.0', '--prefix', prefix, '--json']);
    t.like(
      jsonOut<TxnJson>(r),
      { generation: 10, previousGeneration: 8 },
      'a pruned number (9) is not handed out again',
    );
    const last = applyStep(applyStep(sets[7]!, ['deactivate', 'delta']), ['activate', 'gamma@2.0']);
    await assertHolds(t, prefix, packagesOf(last));
    await verify('at the end');
  };
}

test(
  'inplace: rollback to any of six generations restores its exact tree',
  rollbackMacro('inplace'),
);
test(
  'generations: rollback is a symlink switch to the kept tree, exact too',
  rollbackMacro('generations'),
);
