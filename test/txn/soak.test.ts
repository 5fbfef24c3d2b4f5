// Soak (issue 7): WORKERS real processes at a time for SECONDS doing random add / activate /
// deactivate / rollback / prune / gc / verify / status / lock+sync / hash on one store and three
// prefixes (two inplace, one generations). Every writer's result is recorded; from them the test
// rebuilds the package set of every generation, and then checks each `hash` and `verify --prefix`
// answer against it: no false alarm, no digest of a mix, and no exit 1 anywhere.
//
// Quick mode (10 s) runs in `npm test`; PSTORE_TORTURE=1 soaks 60 s; PSTORE_SOAK_SECONDS=600 (and
// PSTORE_SOAK_WORKERS) for a long run.

import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { describe, jsonOut, runCli, type CliResult } from '../_helpers/cli.js';
import { tempDir } from '../_helpers/tmp.js';
import { sizeFor } from '../_helpers/torture.js';
import { digestOfSet, pkgName, stagePkg, type StagedPkg } from '../_helpers/txn-trees.js';
import type { TxnJson } from '../_helpers/json.js';

const SECONDS = Number(process.env.PSTORE_SOAK_SECONDS ?? sizeFor(10, 60));
const WORKERS = Number(process.env.PSTORE_SOAK_WORKERS ?? 8);
const PACKAGES = 6;

interface Observation {
  op: string;
  prefix: string;
  generation: number;
  digest?: string;
  ok?: boolean;
  raw: string;
}

interface Soak {
  store: string;
  prefixes: string[];
  staged: StagedPkg[];
  /** every committed transaction's result */
  txns: TxnJson[];
  /** every hash / verify --prefix answer */
  seen: Observation[];
  /** commands that broke a rule (exit 1, an unexpected code) */
  violations: string[];
  counts: Map<string, number>;
}

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;

async function pstore(s: Soak, args: string[], allowed: number[]): Promise<CliResult | undefined> {
  const r = await runCli(['--store', s.store, ...args], { unlimited: true, timeoutMs: 240_000 });
  const key = `${args[0]} → ${r.code ?? r.signal}`;
  s.counts.set(key, (s.counts.get(key) ?? 0) + 1);
  if (r.code === null || !allowed.includes(r.code))
    s.violations.push(`pstore ${args.join(' ')}\n${describe(r)}`);
  return r.code === 0 ? r : undefined;
}

function recordTxn(s: Soak, r: CliResult | undefined): void {
  if (r) s.txns.push(jsonOut<TxnJson>(r));
}

/** One random operation; the exit codes each may legitimately end with are listed beside it. */
const OPERATIONS: Array<[weight: number, run: (s: Soak) => Promise<void>]> = [
  [
    2,
    async (s) => {
      const p = pick(s.staged);
      await pstore(s, ['add', p.dir, '--name', p.name, '--version', p.version, '--json'], [0]);
    },
  ],
  [
    6,
    async (s) => {
      const refs = [pick(s.staged), pick(s.staged)].map((p) => `${p.name}@${p.version}`);
      const distinct = refs[0]!.split('@')[0] === refs[1]!.split('@')[0] ? refs.slice(0, 1) : refs;
      recordTxn(
        s,
        await pstore(s, ['activate', ...distinct, '--prefix', pick(s.prefixes), '--json'], [0, 6]),
      );
    },
  ],
  [
    3,
    async (s) =>
      recordTxn(
        s,
        await pstore(
          s,
          [
            'deactivate',
            pkgName(Math.floor(Math.random() * PACKAGES)),
            '--prefix',
            pick(s.prefixes),
            '--json',
          ],
          [0, 6],
        ),
      ),
  ],
  [
    2,
    async (s) =>
      recordTxn(s, await pstore(s, ['rollback', '--prefix', pick(s.prefixes), '--json'], [0, 6])),
  ],
  [
    1,
    async (s) => {
      const prefix = pick(s.prefixes);
      const gens = s.txns.filter((x) => x.prefix === prefix).map((x) => x.generation);
      if (gens.length === 0) return;
      // 2: already current; 6: pruned meanwhile. Never 4: pstore never prunes half a tree.
      recordTxn(
        s,
        await pstore(
          s,
          ['rollback', '--to', String(pick(gens)), '--prefix', prefix, '--json'],
          [0, 2, 6],
        ),
      );
    },
  ],
  [
    1,
    async (s) => {
      await pstore(s, ['prune', '--keep', '3', '--prefix', pick(s.prefixes), '--json'], [0]);
    },
  ],
  [
    1,
    async (s) => {
      await pstore(s, ['gc', '--json', ...(Math.random() < 0.3 ? ['--older-than', '0'] : [])], [0]);
    },
  ],
  [
    1,
    async (s) => {
      const r = await pstore(s, ['verify', '--json'], [0, 4]);
      if (!r) s.violations.push('store verify found problems in a healthy store');
    },
  ],
  [
    2,
    async (s) => {
      await pstore(s, ['status', '--prefix', pick(s.prefixes), '--json'], [0]);
    },
  ],
  [
    1,
    async (s) => {
      const [from, to] = [pick(s.prefixes), pick(s.prefixes)];
      const file = path.join(
        path.dirname(s.store),
        `lock-${Math.random().toString(36).slice(2)}.json`,
      );
      if (!(await pstore(s, ['lock', '--prefix', from, '-o', file, '--json'], [0]))) return;
      recordTxn(s, await pstore(s, ['sync', file, '--prefix', to, '--json'], [0, 6]));
    },
  ],
  [3, async (s) => observe(s, 'hash')],
  [3, async (s) => observe(s, 'verify')],
];

async function observe(s: Soak, op: 'hash' | 'verify'): Promise<void> {
  const prefix = pick(s.prefixes);
  const args =
    op === 'hash'
      ? ['hash', '--prefix', prefix, '--json']
      : ['verify', '--prefix', prefix, '--json'];
  // 5: "changed while reading" after bounded retries is an honest answer; 4 from verify is not.
  const r = await pstore(s, args, [0, 5]);
  if (!r) return;
  const j = jsonOut<{ prefix: string; generation: number; digest?: string; ok?: boolean }>(r);
  s.seen.push({
    op,
    prefix,
    generation: j.generation,
    ...(j.digest ? { digest: j.digest } : {}),
    ...(j.ok === undefined ? {} : { ok: j.ok }),
    raw: r.stdout,
  });
}

/**
 * Hash and verify in turn while the soak runs, and after it until each has answered once: the
 * checks below then always have answers to look at (the workers' random draws may pick neither).
 */
async function observer(s: Soak, until: number): Promise<void> {
  const answered = (op: 'hash' | 'verify') => s.seen.some((o) => o.op === op);
  for (let k = 0; Date.now() < until || !answered('hash') || !answered('verify'); k++)
    await observe(s, k % 2 ? 'verify' : 'hash');
}

async function worker(s: Soak, until: number): Promise<void> {
  const total = OPERATIONS.reduce((a, [w]) => a + w, 0);
  while (Date.now() < until) {
    let x = Math.random() * total;
    const op = OPERATIONS.find(([w]) => (x -= w) < 0) ?? OPERATIONS[0]!;
    await op[1](s);
  }
}

/** The package set (name → id) of every generation of every prefix, from the writers' results. */
function generationSets(s: Soak): Map<string, Map<number, Map<string, string>>> {
  const sets = new Map(s.prefixes.map((p) => [p, new Map([[0, new Map<string, string>()]])]));
  let pending = [...steps(s.txns)];
  for (let progress = true; progress && pending.length;) {
    progress = false;
    pending = pending.filter((x) => {
      const byGen = sets.get(x.prefix)!;
      const prev = byGen.get(x.previousGeneration);
      if (!prev) return true;
      const next = new Map(prev);
      for (const d of x.deactivated) next.delete(d.name);
      for (const a of x.activated) next.set(a.name, a.id);
      byGen.set(x.generation, next);
      progress = true;
      return false;
    });
  }
  return sets;
}

/**
 * The writers' results as steps between generations: the members of one group commit (SPEC.md
 * §Group commit) each report their own part of one step (same prefix, previous and new
 * generation), so their parts are joined; names are distinct between members.
 */
function steps(txns: readonly TxnJson[]): TxnJson[] {
  const byStep = new Map<string, TxnJson>();
  for (const x of txns) {
    const key = `${x.prefix}\0${x.previousGeneration}\0${x.generation}`;
    const seen = byStep.get(key);
    if (!seen)
      byStep.set(key, { ...x, activated: [...x.activated], deactivated: [...x.deactivated] });
    else {
      seen.activated.push(...x.activated);
      seen.deactivated.push(...x.deactivated);
    }
  }
  return [...byStep.values()];
}

async function setUp(t: ExecutionContext): Promise<Soak> {
  const dir = await tempDir(t, 'soak');
  const s: Soak = {
    store: path.join(dir, 'store'),
    prefixes: ['inplace-a', 'inplace-b', 'gens'].map((n) => path.join(dir, n)),
    staged: [],
    txns: [],
    seen: [],
    violations: [],
    counts: new Map(),
  };
  for (let i = 0; i < PACKAGES; i++) {
    for (const version of ['1.0', '2.0'])
      s.staged.push(await stagePkg(path.join(dir, 'src'), pkgName(i), { version }));
  }
  for (const p of s.staged)
    await pstore(s, ['add', p.dir, '--name', p.name, '--version', p.version, '--quiet'], [0]);
  for (const [i, prefix] of s.prefixes.entries()) {
    recordTxn(
      s,
      await pstore(
        s,
        [
          'activate',
          `${pkgName(i)}@1.0`,
          '--prefix',
          prefix,
          '--layout',
          i === 2 ? 'generations' : 'inplace',
          '--json',
        ],
        [0],
      ),
    );
  }
  return s;
}

test('soak: random writers and readers on one store and three prefixes; every reader answer matches a committed generation', async (t) => {
  t.timeout((SECONDS + 300) * 1000);
  const s = await setUp(t);
  const until = Date.now() + SECONDS * 1000;
  await Promise.all([
    ...Array.from({ length: WORKERS }, () => worker(s, until)),
    observer(s, until),
  ]);
  t.log(
    [...s.counts]
      .sort()
      .map(([k, n]) => `${k}: ${n}`)
      .join(', '),
  );
  t.deepEqual(s.violations, [], 'no exit 1, no unexpected code');

  const verified = s.seen.filter((x) => x.op === 'verify');
  t.true(verified.length > 0, 'verify --prefix answered');
  for (const o of verified) t.true(o.ok, `verify --prefix raised a false alarm:\n${o.raw}`);
  // Every entry back in the store (gc --older-than 0 may have taken some); re-adds keep their ids.
  for (const p of s.staged)
    await pstore(s, ['add', p.dir, '--name', p.name, '--version', p.version, '--quiet'], [0]);
  const sets = generationSets(s);
  const digests = new Map<string, string>();
  let checked = 0;
  let compared = 0;
  for (const o of s.seen.filter((x) => x.op === 'hash')) {
    const set = sets.get(o.prefix)!.get(o.generation);
    if (!set) {
      t.fail(`hash named generation ${o.generation} of ${o.prefix}, which no writer committed`);
      continue;
    }
    const key = [...set.values()].sort().join(',');
    const reference = path.join(path.dirname(s.store), `reference-${digests.size}`);
    if (!digests.has(key))
      digests.set(key, await digestOfSet(s.store, reference, [...set.values()]));
    if (set.size) {
      t.is(
        o.digest,
        digests.get(key),
        `hash of ${o.prefix} generation ${o.generation} is not the digest of its package set`,
      );
      compared++;
    }
    checked++;
  }
  t.true(checked > 0, 'hash answered');
  t.log(
    `${s.txns.length} transactions, ${checked} hash answers (${compared} of a non-empty set) and ${s.seen.length - checked} verify answers checked`,
  );

  const v = await runCli(['--store', s.store, 'verify', '--json']);
  t.is(v.code, 0, describe(v));
  for (const prefix of s.prefixes) {
    const pv = await runCli(['--store', s.store, 'verify', '--prefix', prefix, '--json']);
    t.is(pv.code, 0, describe(pv));
    const st = jsonOut<{ transactionInProgress: boolean; transaction?: string }>(
      await runCli(['--store', s.store, 'status', '--prefix', prefix, '--json']),
    );
    t.false(st.transactionInProgress);
    if (st.transaction !== undefined) t.is(st.transaction, 'none');
  }
});
