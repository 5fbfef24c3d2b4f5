// The prefix writer lock and the store lock, seen from outside with real processes: a writer held
// inside its transaction (PSTORE_TEST_PAUSEPOINT) blocks other writers (they wait, or give up with
// EPSTORE_BUSY after --wait) but never readers; a writer killed with SIGKILL leaves a journal and
// no lock (the kernel drops fcntl locks), and whoever comes next recovers the prefix first.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import type { PrefixVerifyResult } from '../../lib/index.js';
import { describe, jsonOut, spawnStoreCli, storeCli, type CliResult } from '../_helpers/cli.js';
import {
  SITE,
  exists,
  jsonError,
  listTree,
  sharedTemplateStore,
  stateOf,
  unionOf,
  until,
  withPkg0Active,
  type StagedPkg,
} from '../_helpers/txn-trees.js';
import { TORTURE } from '../_helpers/torture.js';
import type { GenJson, PkgJson, StatusJson } from '../_helpers/json.js';

interface Fixture {
  dir: string;
  store: string;
  prefix: string;
  pkgs: StagedPkg[];
  cli: ReturnType<typeof storeCli>;
}

// pkg0..pkg3, added once to a template store that each test copies.
const storeCopy = sharedTemplateStore('locks', 4);

/** A store with pkg0..pkg3 added and a prefix at generation 1 with pkg0 active. */
async function fixture(t: ExecutionContext): Promise<Fixture> {
  return withPkg0Active(t, await storeCopy(t));
}

const spawnWriter = (f: Fixture, args: string[], env: Record<string, string> = {}) =>
  spawnStoreCli(f.store, args, env, 120_000);

const journalOf = (prefix: string) => path.join(prefix, '.pstore', 'journal.json');

/** The non-marker files of a staged package (what is in place at apply:after-files). */
async function plainFiles(p: StagedPkg): Promise<string[]> {
  return Object.entries(await listTree(p.dir))
    .filter(([rel, what]) => what.startsWith('file') && !rel.includes('.dist-info'))
    .map(([rel]) => rel);
}

async function allExist(root: string, rels: readonly string[]): Promise<boolean> {
  for (const r of rels) if (!(await exists(path.join(root, r)))) return false;
  return true;
}

async function statusOf(f: Fixture): Promise<{ r: CliResult; s: StatusJson }> {
  const r = await f.cli(['status', '--prefix', f.prefix, '--json']);
  return { r, s: r.code === 0 ? jsonOut<StatusJson>(r) : (undefined as never) };
}

async function assertVerified(
  t: ExecutionContext,
  f: Fixture,
  generation: number,
  active: readonly StagedPkg[],
): Promise<void> {
  const v = await f.cli(['verify', '--prefix', f.prefix, '--json']);
  t.is(v.code, 0, `verify --prefix: ${describe(v)}`);
  t.like(jsonOut<PrefixVerifyResult>(v), {
    ok: true,
    generation,
    missing: [],
    modified: [],
    strays: [],
    pendingTransaction: false,
  });
  t.deepEqual(
    await listTree(f.prefix),
    await unionOf(active),
    'the prefix holds exactly the active packages',
  );
  t.false(await exists(journalOf(f.prefix)), 'no journal is left');
}

const names = (pkgs: readonly PkgJson[]) => pkgs.map((p) => p.name).sort();

test('a paused writer: status answers at once, --wait 1 gives up with EPSTORE_BUSY, a patient writer goes next', async (t) => {
  const f = await fixture(t);
  // Long enough that, even on a loaded machine, a reader and a --wait 1 writer finish inside it.
  const PAUSE = 10_000;
  const first = spawnWriter(f, ['activate', 'pkg1', '--prefix', f.prefix, '--json'], {
    PSTORE_TEST_PAUSEPOINT: `apply:after-files:${PAUSE}`,
  });
  const pkg1Files = await plainFiles(f.pkgs[1]!);
  await until(
    'the first writer to reach apply:after-files',
    async () => (await exists(journalOf(f.prefix))) && allExist(f.prefix, pkg1Files),
  );
  const treeDuring = await listTree(f.prefix);
  const stateDuring = await stateOf(f.prefix);
  // A writer with the default --wait: it queues behind the first one (and changes nothing meanwhile).
  const patient = spawnWriter(f, ['activate', 'pkg3', '--prefix', f.prefix]);

  // A reader and an impatient writer, both while the first writer holds the prefix lock.
  const started = Date.now();
  const [st, busy] = await Promise.all([
    statusOf(f).then((x) => ({ ...x, ms: Date.now() - started })),
    f.cli(['activate', 'pkg2', '--prefix', f.prefix, '--wait', '1', '--json']),
  ]);
  t.is(first.child.exitCode, null, 'the first writer is still inside its transaction');
  t.is(st.r.code, 0, describe(st.r));
  t.true(st.ms < PAUSE / 2, `status took ${st.ms} ms: it must not wait for the writer`);
  t.like(st.s, { generation: 1, transactionInProgress: true, layout: 'inplace' });
  t.deepEqual(
    names(st.s.packages),
    ['pkg0'],
    'status reports the committed generation, not the one in flight',
  );

  t.is(busy.code, 5, describe(busy));
  const err = jsonError(busy);
  t.is(err.code, 'EPSTORE_BUSY');
  t.true(err.message.includes(f.prefix), `the error names the prefix: ${err.message}`);
  t.deepEqual(
    await listTree(f.prefix),
    treeDuring,
    'the busy writer changed nothing in the prefix',
  );
  t.deepEqual(await stateOf(f.prefix), stateDuring, 'the busy writer changed nothing in .pstore');

  t.is(patient.child.exitCode, null, 'the patient writer is still waiting');
  const r1 = await first.done;
  t.is(r1.code, 0, describe(r1));
  t.like(jsonOut<{ generation: number }>(r1), { generation: 2 });
  const r3 = await patient.done;
  t.is(r3.code, 0, describe(r3));
  t.regex(
    r3.stderr,
    /waiting for another pstore process/,
    'the patient writer said it was waiting',
  );
  t.regex(r3.stdout, /generation 3 \(was 2\)/);

  const end = await statusOf(f);
  t.like(end.s, { generation: 3, transactionInProgress: false });
  t.deepEqual(names(end.s.packages), ['pkg0', 'pkg1', 'pkg3']);
  const gens = jsonOut<GenJson[]>(await f.cli(['generations', '--prefix', f.prefix, '--json']));
  t.deepEqual(
    gens.map((g) => [g.generation, names(g.packages)]),
    [
      [1, ['pkg0']],
      [2, ['pkg0', 'pkg1']],
      [3, ['pkg0', 'pkg1', 'pkg3']],
    ],
  );
  await assertVerified(t, f, 3, [f.pkgs[0]!, f.pkgs[1]!, f.pkgs[3]!]);
});

test('verify --prefix during a live transaction waits for it and checks the result; --wait 1 gives up with EPSTORE_BUSY', async (t) => {
  // Readers that walk the tree hold the prefix lock shared (issue 7, class 8): they never see a
  // writer's half-done work, so they wait for it (up to --wait) instead of reporting it.
  const f = await fixture(t);
  const w = spawnWriter(f, ['activate', 'pkg1', '--prefix', f.prefix], {
    PSTORE_TEST_PAUSEPOINT: 'txn:after-journal:12000',
  });
  await until('the journal', () => exists(journalOf(f.prefix)));
  // spawned outside the per-worker child slots: it waits for seconds, other tests must not
  const patient = spawnWriter(f, ['verify', '--prefix', f.prefix, '--json']).done;
  const impatient = await f.cli(['verify', '--prefix', f.prefix, '--wait', '1', '--json']);
  t.is(w.child.exitCode, null, 'the writer is still running');
  t.is(impatient.code, 5, describe(impatient));
  t.is(jsonError(impatient).code, 'EPSTORE_BUSY');
  t.true(await exists(journalOf(f.prefix)), "a reader never recovers a live writer's journal");
  const v = await patient;
  t.is(v.code, 0, describe(v));
  t.like(jsonOut<PrefixVerifyResult>(v), { ok: true, pendingTransaction: false, generation: 2 });
  const r = await w.done;
  t.is(r.code, 0, describe(r));
  await assertVerified(t, f, 2, [f.pkgs[0]!, f.pkgs[1]!]);
});

test('a writer killed (SIGKILL) at apply:after-files: the next activate takes the lock, recovers, then runs', async (t) => {
  const f = await fixture(t);
  const w = spawnWriter(f, ['activate', 'pkg1', '--prefix', f.prefix], {
    PSTORE_TEST_PAUSEPOINT: 'apply:after-files:60000',
  });
  const pkg1Files = await plainFiles(f.pkgs[1]!);
  await until(
    'the writer to reach apply:after-files',
    async () => (await exists(journalOf(f.prefix))) && allExist(f.prefix, pkg1Files),
  );
  await new Promise((r) => setTimeout(r, 200));
  t.false(
    await exists(path.join(f.prefix, SITE, 'pkg1-1.0.dist-info')),
    'markers are placed after the files, not before',
  );
  w.child.kill('SIGKILL');
  const dead = await w.done;
  t.is(dead.signal, 'SIGKILL');
  t.true(await exists(journalOf(f.prefix)), 'the dead writer left its journal');
  t.true(
    await exists(path.join(f.prefix, '.pstore', 'lock')),
    'and its lock file (the lock itself died with it)',
  );

  // --wait 5: a stale lock would make this exit 5 instead of hanging for 600 s.
  const next = await f.cli(['activate', 'pkg2', '--prefix', f.prefix, '--wait', '5', '--json']);
  t.is(next.code, 0, describe(next));
  t.like(jsonOut<{ generation: number; previousGeneration: number }>(next), {
    generation: 3,
    previousGeneration: 2,
  });
  const gens = jsonOut<GenJson[]>(await f.cli(['generations', '--prefix', f.prefix, '--json']));
  t.deepEqual(
    gens.map((g) => [g.generation, g.current, names(g.packages)]),
    [
      [1, false, ['pkg0']],
      [2, false, ['pkg0', 'pkg1']], // the interrupted transaction, rolled forward first
      [3, true, ['pkg0', 'pkg1', 'pkg2']],
    ],
  );
  await assertVerified(t, f, 3, [f.pkgs[0]!, f.pkgs[1]!, f.pkgs[2]!]);
});

for (const point of ['txn:after-journal', 'apply:after-files'] as const) {
  test(`status on a prefix whose writer died at ${point} (journal, free lock) recovers it`, async (t) => {
    const f = await fixture(t);
    const crashed = await f.cli(['activate', 'pkg1', '--prefix', f.prefix], {
      env: { PSTORE_TEST_CRASHPOINT: point },
    });
    t.is(crashed.signal, 'SIGKILL', describe(crashed));
    t.true(await exists(journalOf(f.prefix)));
    const started = Date.now();
    const { r, s } = await statusOf(f);
    t.is(r.code, 0, describe(r));
    t.true(Date.now() - started < 30_000, 'status did not wait out the default 600 s');
    t.like(s, { transactionInProgress: false, generation: 2 });
    t.deepEqual(
      names(s.packages),
      ['pkg0', 'pkg1'],
      'rolled forward: the journal named pkg1 as the target',
    );
    await assertVerified(t, f, 2, [f.pkgs[0]!, f.pkgs[1]!]);
  });
}

test('gc holding the store lock (paused at gc:before-sweep): activate waits for it, --wait 1 gives up, status does not wait', async (t) => {
  const f = await fixture(t);
  const gc = spawnWriter(f, ['gc', '--json'], { PSTORE_TEST_PAUSEPOINT: 'gc:before-sweep:12000' });
  // gc holds the store lock exclusive from its start; wait until it certainly has it: a shared
  // request with --wait 0 must fail.
  await until(
    'gc to hold the store lock',
    async () => {
      const probe = await f.cli(['verify', '--wait', '0', '--json']);
      return probe.code === 5;
    },
    30_000,
    50,
  );
  const [impatient, st] = await Promise.all([
    f.cli(['activate', 'pkg1', '--prefix', f.prefix, '--wait', '1', '--json']),
    statusOf(f),
  ]);
  t.is(gc.child.exitCode, null, 'gc is still running');
  t.is(impatient.code, 5, describe(impatient));
  t.true(jsonError(impatient).message.includes(f.store), 'names the store');
  t.is(st.r.code, 0, describe(st.r));
  t.like(st.s, { generation: 1, transactionInProgress: false });
  t.false(await exists(journalOf(f.prefix)), 'the impatient writer wrote no journal');

  const patient = spawnWriter(f, ['activate', 'pkg1', '--prefix', f.prefix]);
  const g = await gc.done;
  t.is(g.code, 0, describe(g));
  const p = await patient.done;
  t.is(p.code, 0, describe(p));
  await assertVerified(t, f, 2, [f.pkgs[0]!, f.pkgs[1]!]);
});

test("status on a prefix with a dead writer's journal does not wait for a gc holding the store lock", async (t) => {
  const f = await fixture(t);
  const crashed = await f.cli(['activate', 'pkg1', '--prefix', f.prefix], {
    env: { PSTORE_TEST_CRASHPOINT: 'txn:after-journal' },
  });
  t.is(crashed.signal, 'SIGKILL', describe(crashed));
  const PAUSE = 12_000;
  const gc = spawnWriter(f, ['gc', '--json'], {
    PSTORE_TEST_PAUSEPOINT: `gc:before-sweep:${PAUSE}`,
  });
  await until(
    'gc to hold the store lock',
    async () => (await f.cli(['verify', '--wait', '0', '--json'])).code === 5,
    30_000,
    50,
  );
  const started = Date.now();
  const { r, s } = await statusOf(f);
  const ms = Date.now() - started;
  const gcAlive = gc.child.exitCode === null;
  t.is(r.code, 0, describe(r));
  // Either recovered (generation 2) or reported as pending (generation 1): but at once.
  t.true(
    gcAlive && ms < PAUSE / 2,
    `status took ${ms} ms while gc held the store lock (gc still running: ${gcAlive})`,
  );
  // Recovering needs the store lock: with gc holding it, status reports the journal as interrupted
  // (not as running: no writer is alive) and says why.
  if (s)
    t.true(
      s.generation === 2 ||
        (s.generation === 1 &&
          s.transaction === 'interrupted' &&
          /gc is running/.test(s.interruptedReason ?? '')),
      JSON.stringify(s),
    );
  const g = await gc.done;
  t.is(g.code, 0, describe(g));
  await f.cli(['recover', '--prefix', f.prefix]);
  await assertVerified(t, f, 2, [f.pkgs[0]!, f.pkgs[1]!]);
});

test('a transaction in flight holds the store lock shared: gc --wait 1 gives up, gc afterwards keeps everything', async (t) => {
  const f = await fixture(t);
  const w = spawnWriter(f, ['activate', 'pkg1', '--prefix', f.prefix], {
    PSTORE_TEST_PAUSEPOINT: 'apply:after-files:12000',
  });
  await until('the journal', () => exists(journalOf(f.prefix)));
  const gc = await f.cli(['gc', '--older-than', '0', '--wait', '1', '--json']);
  t.is(w.child.exitCode, null);
  t.is(gc.code, 5, describe(gc));
  t.is(jsonError(gc).code, 'EPSTORE_BUSY');
  const r = await w.done;
  t.is(r.code, 0, describe(r));
  const gc2 = await f.cli(['gc', '--older-than', '0', '--json']);
  t.is(gc2.code, 0, describe(gc2));
  // pkg2 and pkg3 are in no generation and older than 0: forgotten. pkg0 and pkg1 stay.
  t.deepEqual(
    jsonOut<{ entriesRemoved: Array<{ name: string }> }>(gc2)
      .entriesRemoved.map((e) => e.name)
      .sort(),
    ['pkg2', 'pkg3'],
  );
  await assertVerified(t, f, 2, [f.pkgs[0]!, f.pkgs[1]!]);
  const sv = await f.cli(['verify', '--json']);
  t.is(sv.code, 0, describe(sv));
});

test('two writers racing a fresh prefix: --wait 0 loser exits 5 and the prefix is created once', async (t) => {
  const f = await fixture(t);
  const fresh = path.join(f.dir, 'fresh');
  const w = spawnWriter(f, ['activate', 'pkg1', '--prefix', fresh], {
    PSTORE_TEST_PAUSEPOINT: 'txn:after-journal:12000',
  });
  await until('the journal', () => exists(journalOf(fresh)));
  const loser = await f.cli(['activate', 'pkg2', '--prefix', fresh, '--wait', '0']);
  t.is(loser.code, 5, describe(loser));
  t.regex(loser.stderr, /^pstore: EPSTORE_BUSY: .*fresh/m);
  const r = await w.done;
  t.is(r.code, 0, describe(r));
  const { s } = await statusOf({ ...f, prefix: fresh });
  t.like(s, { generation: 1 });
  t.deepEqual(names(s.packages), ['pkg1']);
  await fsp.access(path.join(fresh, '.pstore', 'prefix.json'));
});

if (TORTURE) {
  test('torture: writers killed at random moments, each time the next command recovers to a clean prefix', async (t) => {
    const f = await fixture(t);
    // Alternate between activating pkg1..pkg3 together and going back to pkg0 alone.
    const all = f.pkgs;
    let expected: StagedPkg[] = [all[0]!];
    for (let round = 0; round < 20; round++) {
      const up = round % 2 === 0;
      const w = spawnWriter(
        f,
        up
          ? ['activate', 'pkg1', 'pkg2', 'pkg3', '--prefix', f.prefix]
          : ['deactivate', 'pkg1', 'pkg2', 'pkg3', '--prefix', f.prefix],
      );
      await new Promise((r) => setTimeout(r, 150 + Math.floor(Math.random() * 900)));
      w.child.kill('SIGKILL');
      const r = await w.done;
      const { r: sr, s } = await statusOf(f);
      t.is(sr.code, 0, describe(sr));
      t.false(s.transactionInProgress);
      const active = names(s.packages);
      // The prefix is at one of the two states the interrupted transaction joined.
      const target = up ? ['pkg0', 'pkg1', 'pkg2', 'pkg3'] : ['pkg0'];
      const before = expected.map((p) => p.name).sort();
      t.true(
        JSON.stringify(active) === JSON.stringify(target) ||
          JSON.stringify(active) === JSON.stringify(before),
        `round ${round}: ${active.join(' ')} (writer ${r.code ?? r.signal})`,
      );
      expected = all.filter((p) => active.includes(p.name));
      await assertVerified(t, f, s.generation, expected);
    }
  });
}
