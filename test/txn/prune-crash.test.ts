// Removing a generation never leaves a half-deleted tree reachable (issue 7, class 1). A
// generations prefix with three generations is pruned to one, and the prune is SIGKILLed at every
// step of it and of each tree removal (PSTORE_TEST_CRASHPOINT). After each kill, `rollback --to`
// each pruned generation must either work completely (the tree hashes exactly as it did when that
// generation was made) or exit 4/6 naming the generation, leaving the live prefix exactly the
// current generation (same `pstore hash`, clean `verify --prefix`). On the old order (tree deleted
// before its record) the kill at tree:removing leaves the record and a partial tree, and the
// rollback switches to it: the hash check fails. The default run kills at tree:removing#3 (the step
// that catches that order) and between two records; PSTORE_TORTURE=1 at every step.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { openStore, type Prefix } from '../../lib/index.js';
import { describe, jsonOut, type storeCli } from '../_helpers/cli.js';
import { assertCleanStore } from '../_helpers/store.js';
import { casesFor } from '../_helpers/torture.js';
import { jsonError, sharedTemplateStore } from '../_helpers/txn-trees.js';

const storeCopy = sharedTemplateStore('prune-crash', 3);

interface Fixture {
  cli: ReturnType<typeof storeCli>;
  store: string;
  prefix: string;
  /** the same prefix through the library, for setup and for the checks after the command under test */
  lib: Prefix;
  trees: string;
  /** the digest of each generation's tree when it was made */
  digests: Map<number, string>;
}

/** A generations prefix at generation 3 (pkg0; +pkg1; +pkg2), its store a copy of the template. */
async function threeGenerations(t: ExecutionContext): Promise<Fixture> {
  const { dir, store, cli } = await storeCopy(t);
  const prefix = path.join(dir, 'prefix');
  const f: Fixture = {
    cli,
    store,
    prefix,
    lib: openStore({ path: store }).prefix(prefix, { layout: 'generations' }),
    trees: path.join(dir, '.pstore-prefix', 'trees'),
    digests: new Map(),
  };
  // setup through the library: prune, rollback and the recovering status are what is spawned
  for (const [i, name] of ['pkg0', 'pkg1', 'pkg2'].entries()) {
    await f.lib.activate([name]);
    f.digests.set(i + 1, (await f.lib.hash()).digest);
  }
  return f;
}

/**
 * The live prefix is exactly generation `n`: status, hash, verify --prefix all agree. `status` is
 * spawned (after a kill it is the reading command that recovers); the hash and the verify that
 * follow are library calls (their CLI contracts are cli/prefix-contract's and txn/activate's).
 */
async function assertExactly(
  t: ExecutionContext,
  f: Fixture,
  n: number,
  what: string,
): Promise<void> {
  const s = await f.cli(['status', '--prefix', f.prefix, '--json']);
  t.is(s.code, 0, describe(s));
  t.like(jsonOut(s), { generation: n, transaction: 'none' }, what);
  t.is(
    (await f.lib.hash()).digest,
    f.digests.get(n) ?? 'no digest recorded',
    `${what}: the live tree is generation ${n}'s, byte for byte`,
  );
  const v = await f.lib.verify();
  t.true(v.ok, `${what}: verify --prefix: ${JSON.stringify(v)}`);
}

/** Roll back to a pruned generation: complete, or refused naming it (4 or 6) with nothing changed. */
async function rollbackToPruned(
  t: ExecutionContext,
  f: Fixture,
  n: number,
  point: string,
): Promise<void> {
  const r = await f.cli(['rollback', '--to', String(n), '--prefix', f.prefix, '--json']);
  if (r.code === 0) {
    await assertExactly(t, f, n, `after ${point}, rollback --to ${n} worked`);
    const back = await f.cli(['rollback', '--to', '3', '--prefix', f.prefix]);
    t.is(back.code, 0, describe(back));
    return;
  }
  t.true(r.code === 4 || r.code === 6, `after ${point}, rollback --to ${n}: ${describe(r)}`);
  const err = jsonError(r);
  t.true(
    err.subject === String(n) && err.message.includes(`generation ${n}`),
    `the error names generation ${n}: ${JSON.stringify(err)}`,
  );
}

// tree:removing fires after each entry deleted: #3 is early in the first tree, #30 inside the second.
const POINTS = casesFor(
  [
    'prune:after-current',
    'prune:after-record',
    'tree:after-unreachable',
    'tree:removing#3',
    'prune:after-record#2',
    'tree:removing#30',
  ],
  ['tree:removing#3', 'prune:after-record#2'],
);

for (const point of POINTS) {
  test(`prune --keep 1 killed at ${point}: pruned generations roll back whole or are refused by number`, async (t) => {
    const f = await threeGenerations(t);
    const killed = await f.cli(['prune', '--keep', '1', '--prefix', f.prefix], {
      env: { PSTORE_TEST_CRASHPOINT: point },
    });
    t.is(killed.signal, 'SIGKILL', describe(killed));
    await assertExactly(t, f, 3, `after the kill at ${point}`);
    for (const n of [1, 2]) await rollbackToPruned(t, f, n, point);
    await assertExactly(t, f, 3, `after the rollbacks (${point})`);

    // The next prune finishes the job: only the current tree is left, no trash.
    const again = await f.cli(['prune', '--keep', '1', '--prefix', f.prefix]);
    t.is(again.code, 0, describe(again));
    t.deepEqual(
      (await fsp.readdir(f.trees)).sort(),
      ['3'],
      'only the current tree remains, nothing half-deleted',
    );
    await assertExactly(t, f, 3, 'after the second prune');
    await assertCleanStore(t, f.store);
  });
}

test('rollback to a generation whose tree is gone exits 4 naming it and leaves the prefix alone', async (t) => {
  const f = await threeGenerations(t);
  // Whatever removed it (an older pstore, a user): the record is there, the tree is not.
  await fsp.rename(path.join(f.trees, '1'), path.join(path.dirname(f.trees), 'elsewhere'));
  const r = await f.cli(['rollback', '--to', '1', '--prefix', f.prefix, '--json']);
  t.is(r.code, 4, describe(r));
  t.like(jsonError(r), { code: 'EPSTORE_INTEGRITY', subject: '1' });
  t.false(
    await fsp.lstat(path.join(path.dirname(f.trees), 'journal.json')).then(
      () => true,
      () => false,
    ),
    'no journal was written',
  );
  await assertExactly(t, f, 3, 'after the refused rollback');
});

test('a new generation whose build is killed is never reachable as trees/N; the next command finishes it', async (t) => {
  const f = await threeGenerations(t);
  await f.lib.deactivate(['pkg2']); // generation 4
  f.digests.set(4, (await f.lib.hash()).digest);
  const killed = await f.cli(['activate', 'pkg2', '--prefix', f.prefix], {
    env: { PSTORE_TEST_CRASHPOINT: 'apply:file#5' },
  });
  t.is(killed.signal, 'SIGKILL', describe(killed));
  t.false((await fsp.readdir(f.trees)).includes('5'), 'the half-built tree has no generation name');
  const r = await f.cli(['rollback', '--to', '3', '--prefix', f.prefix, '--json']);
  t.is(r.code, 0, describe(r)); // recovery first (rolls generation 5 forward), then the switch
  await assertExactly(t, f, 3, 'after recovery and rollback');
  t.false(
    (await fsp.readdir(f.trees)).some((n) => n.startsWith('.pstore-')),
    'no build or trash leftovers',
  );
});
