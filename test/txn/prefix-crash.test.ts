// Crash tests for transactions: the CLI is SIGKILLed at every named point an operation passes
// (PSTORE_TEST_CRASHPOINT), then a *reading* command (`status --prefix`) must recover first, and
// the prefix must be exactly the old generation or exactly the new one: its tree hash equals one
// of the two recorded, its files list exactly that package set (checked against the fixtures),
// `verify --prefix` is clean (no temp or trash names left), the generation records agree, and the
// next transaction works. Before recovery, a Python client must not see a half-installed package
// either. (Random-moment kills and gc kills: prefix-kill.test.ts.)
//
// The default run kills each operation at a few points, every named point at least once over all
// operations; PSTORE_TORTURE=1 at every point each passes (apply:file#N for many N, every marker).

import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import test, { type ExecutionContext } from 'ava';
import { openStore } from '../../lib/index.js';
import { describe, jsonOut, storeCli } from '../_helpers/cli.js';
import {
  assertHolds,
  castStore,
  pstoreLeftovers,
  type CastStore,
} from '../_helpers/prefix-fixtures.js';
import { exists } from '../_helpers/txn-trees.js';
import { assertReaderSeesNoHalfPackage } from '../_helpers/pyprefix.js';
import { removeTree, tempDir } from '../_helpers/tmp.js';
import { TORTURE, casesFor } from '../_helpers/torture.js';

let cast: CastStore;
let storeRoot: string;
let store: string;

// The package sets the operations move between. delta is the bigger one (40 extra modules), so
// `apply:file#40` falls after some files are really in place.
const S0: string[] = [];
const S1 = ['alpha@1.0', 'beta@1.0', 'delta@1.0'];
const S2 = ['alpha@2.0', 'beta@1.0', 'delta@2.0', 'gamma@1.0'];
const S3 = ['beta@1.0', 'delta@1.0'];
/** what the transaction after recovery activates */
const NEXT = 'beta@2.0';

const keyOf = (set: readonly string[]) => [...set].sort().join(' ');
const referenceHashes = new Map<string, string>();
const withNext = (set: readonly string[]) => [...set.filter((r) => !r.startsWith('beta@')), NEXT];

test.before(async () => {
  cast = await castStore('crash-store', [
    'alpha@1.0',
    'alpha@2.0',
    'beta@1.0',
    'beta@2.0',
    'gamma@1.0',
    'delta@1.0',
    'delta@2.0',
  ]);
  ({ root: storeRoot, store } = cast);
  const s = openStore({ path: store });
  // Reference hashes: each set activated cleanly (no crash) into its own prefix.
  const sets = [S0, S1, S2, S3, ...[S1, S2, S3].map(withNext)];
  const digests = await Promise.all(
    sets.map(async (set, i) => {
      const p = s.prefix(path.join(storeRoot, `ref-${i}`));
      if (set.length) await p.sync(set);
      else {
        await p.activate(['beta@1.0']);
        await p.deactivate(['beta']);
      }
      return (await p.hash()).digest;
    }),
  );
  sets.forEach((set, i) => referenceHashes.set(keyOf(set), digests[i]!));
  // The generations each operation starts from, made once through the library (setup, not the
  // contract under test) and copied into every test of that operation.
  for (const [i, op] of OPS.entries()) {
    if (!op.before.length) continue;
    const tpl = path.join(storeRoot, `before-${i}`);
    const p = s.prefix(path.join(tpl, 'prefix'), { layout: op.layout });
    for (const set of op.before) await p.sync(set);
    beforeTemplates.set(op, tpl);
  }
});

const beforeTemplates = new Map<Op, string>();
const cp = promisify(execFile);

/**
 * Put `op`'s starting generations into `work` (holding `prefix`). Package files are hard-linked,
 * as pstore placed them (the store's object inodes, which nothing writes in place); pstore's
 * state directory is copied, so each test has its own lock, records and ownership index.
 */
async function startingPrefix(op: Op, work: string): Promise<void> {
  const tpl = beforeTemplates.get(op);
  if (!tpl) return;
  await cp('cp', ['-al', `${tpl}/.`, work]);
  const meta = path.relative(tpl, metaOf(path.join(tpl, 'prefix'), op.layout));
  await fsp.rm(path.join(work, meta), { recursive: true });
  await cp('cp', ['-a', path.join(tpl, meta), path.join(work, meta)]);
  if (op.layout !== 'generations') return;
  await fsp.rm(path.join(work, meta, 'trees'), { recursive: true });
  await cp('cp', ['-al', path.join(tpl, meta, 'trees'), path.join(work, meta, 'trees')]);
}

test.after.always(async () => {
  await removeTree(storeRoot);
});

interface Op {
  name: string;
  layout: 'inplace' | 'generations';
  /** package sets of the generations that exist before the crashed command (1, 2, ...) */
  before: string[][];
  args: string[];
  /** the package set the command leaves (the old one: the last of `before`, else none) */
  newSet: string[];
  /** every point the operation passes */
  points: string[];
  /** the points of the default run */
  quick: string[];
}

// Every point an operation passes once (apply:file#2, apply:marker#1), and for the upgrade also a
// file point after some files are in place (the first 32 start at once) and a second marker unit;
// torture adds more of both everywhere. `files` = how many files the operation
// places (the plan's `place` list), so every point listed is reached.
const FILE_POINTS = (files: number, more: boolean) =>
  TORTURE
    ? [1, 2, 33, 40, 50, 58].filter((n) => n <= files).map((n) => `apply:file#${n}`)
    : more
      ? ['apply:file#2', 'apply:file#40']
      : ['apply:file#2'];
const MARKER_POINTS = (units: number, more: boolean) =>
  Array.from(
    { length: TORTURE ? units : Math.min(units, more ? 2 : 1) },
    (_, i) => `apply:marker#${i + 1}`,
  );
const applyPoints = (markerUnits: number, files: number, more = false) => [
  'txn:after-journal',
  'apply:after-remove-markers',
  ...(files ? FILE_POINTS(files, more) : []),
  'apply:after-files',
  'apply:after-removals',
  ...MARKER_POINTS(markerUnits, more),
  'apply:after-markers',
];
const COMMIT_POINTS = ['commit:after-generation', 'commit:after-current'];

// The two operations each layout is crashed in, the same in both.
const UPGRADE = {
  before: [S1],
  args: ['activate', 'alpha@2.0', 'delta@2.0', 'gamma@1.0'],
  newSet: S2,
};
const ROLLBACK = { before: [S1, S2], args: ['rollback'], newSet: S1 };

const OPS: Op[] = [
  {
    name: 'inplace activate into a new prefix',
    layout: 'inplace',
    before: [],
    args: ['activate', ...S1],
    newSet: S1,
    points: [...applyPoints(4, 81), ...COMMIT_POINTS], // alpha: dist-info + .pth; beta, delta: dist-info
    quick: ['txn:after-journal', 'apply:file#2', 'apply:marker#1', 'commit:after-generation'],
  },
  {
    name: 'inplace upgrade',
    layout: 'inplace',
    ...UPGRADE,
    points: [...applyPoints(5, 72, true), ...COMMIT_POINTS],
    quick: [
      'apply:after-remove-markers',
      'apply:file#40',
      'apply:marker#2',
      'commit:after-current',
    ],
  },
  {
    name: 'inplace deactivate',
    layout: 'inplace',
    before: [S1],
    args: ['deactivate', 'alpha'],
    newSet: S3,
    points: [...applyPoints(0, 0), ...COMMIT_POINTS],
    quick: ['apply:after-remove-markers', 'apply:after-removals'],
  },
  {
    name: 'inplace rollback',
    layout: 'inplace',
    ...ROLLBACK,
    points: [...applyPoints(3, 59), ...COMMIT_POINTS],
    quick: ['apply:after-files', 'apply:after-markers'],
  },
  {
    name: 'generations activate',
    layout: 'generations',
    ...UPGRADE,
    points: [
      ...applyPoints(6, 94),
      'tree:after-publish',
      'apply:before-switch',
      'apply:after-switch',
      ...COMMIT_POINTS,
    ],
    quick: [
      'apply:file#2',
      'tree:after-publish',
      'apply:before-switch',
      'apply:after-switch',
      'commit:after-generation',
    ],
  },
  {
    name: 'generations rollback',
    layout: 'generations',
    ...ROLLBACK,
    points: ['txn:after-journal', 'apply:before-switch', 'apply:after-switch', ...COMMIT_POINTS],
    quick: ['apply:after-switch', 'commit:after-current'],
  },
];

interface Side {
  set: string[];
  generation: number;
}

/** The two states a crashed `op` may recover to, and whether reaching `next` records a generation. */
function sidesOf(op: Op): { old: Side; next: Side; newGenerationRecorded: boolean } {
  // a rollback makes an existing generation current again; everything else records a new one
  const rollback = op.args[0] === 'rollback';
  const current = op.before.length;
  return {
    old: { set: op.before.at(-1) ?? S0, generation: current },
    next: { set: op.newSet, generation: rollback ? current - 1 : current + 1 },
    newGenerationRecorded: !rollback,
  };
}

function metaOf(prefix: string, layout: Op['layout']): string {
  return layout === 'inplace'
    ? path.join(prefix, '.pstore')
    : path.join(path.dirname(prefix), `.pstore-${path.basename(prefix)}`);
}

/**
 * After a crash: a reading command recovers, and the prefix is exactly old or exactly new.
 * Returns which side it is.
 */
async function assertRecovered(
  t: ExecutionContext,
  prefix: string,
  op: Op,
  env: Record<string, string> = {},
): Promise<Side> {
  const { layout } = op;
  const { old, next, newGenerationRecorded } = sidesOf(op);
  const gensBefore = op.before.map((_, i) => i + 1);
  const cli = storeCli(store);
  const meta = metaOf(prefix, layout);
  t.true(await exists(path.join(meta, 'journal.json')), 'the killed transaction left its journal');

  const st = await cli(['status', '--prefix', prefix, '--json'], { env });
  t.is(st.code, 0, `status recovers: ${describe(st)}`);
  const status = jsonOut<{
    generation: number;
    transactionInProgress: boolean;
    packages: Array<{ name: string; version: string }>;
  }>(st);
  t.false(status.transactionInProgress);
  t.false(await exists(path.join(meta, 'journal.json')), 'status recovered: no journal left');

  const p = openStore({ path: store }).prefix(prefix);
  const h = await p.hash();
  const oldHash = referenceHashes.get(keyOf(old.set))!;
  const newHash = referenceHashes.get(keyOf(next.set))!;
  t.truthy(oldHash);
  t.truthy(newHash);
  const outcome = h.digest === newHash ? 'new' : h.digest === oldHash ? 'old' : undefined;
  t.truthy(
    outcome,
    `the hash is the old (${old.set.join(' ') || 'empty'}) or the new (${next.set.join(' ')}) generation's: ${h.digest}`,
  );
  const want = outcome === 'old' ? old : next;
  t.is(h.generation, want.generation, 'hash reports the matching generation');
  t.is(status.generation, want.generation, 'status reports the matching generation');
  t.deepEqual(status.packages.map((x) => `${x.name}@${x.version}`).sort(), [...want.set].sort());
  await assertHolds(
    t,
    prefix,
    cast.pkgs(want.set),
    `the tree is exactly the ${outcome ?? '?'} package set`,
  );

  // checked through the library: `status` above is the recovering command under test, and
  // `verify --prefix`'s own CLI contract is cli/prefix-contract's and txn/activate's
  t.like(
    await p.verify(),
    { ok: true, missing: [], modified: [], strays: [] },
    'verify --prefix after recovery',
  );
  const root = await fsp.realpath(prefix).catch(() => prefix);
  if (await exists(root))
    t.deepEqual(
      await pstoreLeftovers(root),
      [],
      'no .pstore-tmp/.pstore-trash names anywhere in the prefix',
    );

  // Generation records: exactly one current, the matching one; a new number exists only if used.
  const gens = await p.generations();
  t.deepEqual(
    gens.filter((g) => g.current).map((g) => g.generation),
    want.generation === 0 ? [] : [want.generation],
    'one current generation',
  );
  const expectNumbers =
    newGenerationRecorded && outcome === 'new'
      ? [...gensBefore, next.generation].sort((a, b) => a - b)
      : gensBefore;
  t.deepEqual(
    gens.map((g) => g.generation),
    expectNumbers,
    'generation records',
  );
  const cur = gens.find((g) => g.current);
  if (cur)
    t.deepEqual(cur.packages.map((x) => `${x.name}@${x.version}`).sort(), [...want.set].sort());
  if (layout === 'generations') {
    const trees = (await fsp.readdir(path.join(meta, 'trees')).catch(() => [] as string[]))
      .map(Number)
      .sort((a, b) => a - b);
    t.deepEqual(
      trees,
      gens.map((g) => g.generation),
      'one tree per generation record, no half-built tree left',
    );
    t.is(
      await fsp.readlink(prefix),
      path.join(path.basename(meta), 'trees', String(want.generation)),
    );
    t.deepEqual(
      (await fsp.readdir(path.dirname(prefix))).sort(),
      [path.basename(meta), path.basename(prefix)].sort(),
      'no temp symlink beside the prefix',
    );
  }
  return outcome === 'new' ? next : old;
}

/** The next transaction after recovery works and gets a fresh number. */
async function assertNextTransaction(
  t: ExecutionContext,
  prefix: string,
  set: readonly string[],
): Promise<void> {
  const p = openStore({ path: store }).prefix(prefix);
  const gens = (await p.generations()).map((g) => g.generation);
  const r = await p.activate([NEXT]);
  t.is(r.generation, Math.max(0, ...gens) + 1, 'the next transaction gets the next number');
  const next = withNext(set);
  t.is((await p.hash()).digest, referenceHashes.get(keyOf(next))!, 'and the exact tree');
  await assertHolds(t, prefix, cast.pkgs(next));
  t.deepEqual(await pstoreLeftovers(await fsp.realpath(prefix)), []);
}

/**
 * The same kills while a second thread places half of the directories and files (SPEC.md §Step
 * order, *Two threads*), forced on these small plans; recovery places on two threads too. Each
 * thread counts its own `apply:file` hits, so `#N` kills at whichever thread reaches its N-th file
 * first: N is within both halves.
 */
const TWO_THREADS = { PSTORE_PLACE_THREADS: '2' };
const THREADED: Array<{ op: string; point: string }> = [
  { op: 'inplace activate into a new prefix', point: 'apply:file#20' },
  { op: 'inplace upgrade', point: 'apply:file#30' },
  { op: 'generations activate', point: 'apply:file#30' },
];

for (const op of OPS) {
  const threaded = THREADED.filter((c) => c.op === op.name).map((c) => c.point);
  const cases = [
    ...casesFor(op.points, op.quick).map((point) => ({ point, env: {} })),
    ...threaded.map((point) => ({ point, env: TWO_THREADS })),
  ];
  for (const { point, env } of cases) {
    const how = env === TWO_THREADS ? ' (two threads placing)' : '';
    test(`crash: ${op.name}, killed at ${point}${how}`, async (t) => {
      const work = await tempDir(t, 'crash');
      const prefix = path.join(work, 'prefix');
      await startingPrefix(op, work);
      const cli = storeCli(store);
      const r = await cli(
        [...op.args, '--prefix', prefix, ...(op.before.length ? [] : ['--layout', op.layout])],
        {
          env: { PSTORE_TEST_CRASHPOINT: point, ...env },
        },
      );
      t.is(r.signal, 'SIGKILL', `the CLI died at ${point}: ${describe(r)}`);
      await assertReaderSeesNoHalfPackage(t, prefix, `${op.name} killed at ${point}`);
      const outcome = await assertRecovered(t, prefix, op, env);
      if (point === 'commit:after-current' || point === 'apply:after-switch') {
        t.deepEqual(
          outcome,
          sidesOf(op).next,
          'once the new generation was visible (switched or current), recovery keeps it',
        );
      }
      t.log(`${op.name} @ ${point}: recovered to generation ${outcome.generation}`);
      await assertNextTransaction(t, prefix, outcome.set);
    });
  }
}

// Crash, then crash the recovery too (`recover --prefix` killed at a second point): re-applying
// converges from whatever the first attempt and the interrupted recovery left.
const ALL_DOUBLE: Array<{ op: string; first: string; second: string }> = [
  { op: 'inplace upgrade', first: 'apply:after-files', second: 'apply:marker#1' },
  { op: 'inplace upgrade', first: 'apply:file#40', second: 'apply:file#2' },
  { op: 'inplace rollback', first: 'apply:after-removals', second: 'apply:after-remove-markers' },
  {
    op: 'inplace deactivate',
    first: 'apply:after-remove-markers',
    second: 'commit:after-generation',
  },
  { op: 'generations activate', first: 'apply:after-markers', second: 'apply:file#2' },
  { op: 'generations rollback', first: 'apply:before-switch', second: 'apply:after-switch' },
];

// the default run: one of each layout
const DOUBLE = casesFor(ALL_DOUBLE, [ALL_DOUBLE[0]!, ALL_DOUBLE[4]!]);

for (const d of DOUBLE) {
  const op = OPS.find((o) => o.name === d.op)!;
  test(`crash: ${op.name} killed at ${d.first}, its recovery killed at ${d.second}`, async (t) => {
    const work = await tempDir(t, 'crash2');
    const prefix = path.join(work, 'prefix');
    await startingPrefix(op, work);
    const cli = storeCli(store);
    const first = await cli([...op.args, '--prefix', prefix], {
      env: { PSTORE_TEST_CRASHPOINT: d.first },
    });
    t.is(first.signal, 'SIGKILL', describe(first));
    const second = await cli(['recover', '--prefix', prefix], {
      env: { PSTORE_TEST_CRASHPOINT: d.second },
    });
    t.is(second.signal, 'SIGKILL', `recover died at ${d.second}: ${describe(second)}`);
    await assertReaderSeesNoHalfPackage(t, prefix, `${op.name}, recovery killed at ${d.second}`);
    const outcome = await assertRecovered(t, prefix, op);
    await assertNextTransaction(t, prefix, outcome.set);
  });
}
