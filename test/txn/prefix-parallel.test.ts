// Many writers at once, as real processes: sixteen `pstore activate` into one prefix (packages
// sharing directories) while Python byte-compiles into that prefix; sixteen activations into
// sixteen new prefixes of one store; add → activate pipelines racing a gc loop. The prefix lock
// serializes transactions, so the end state is exactly as if they had run one after another.
//
// PSTORE_TORTURE=1 runs larger variants.

import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { openStore, type Store } from '../../lib/index.js';
import { describe, jsonOut, spawnStoreCli, storeCli, type CliResult } from '../_helpers/cli.js';
import { tempDir } from '../_helpers/tmp.js';
import {
  SITE,
  addPkgs,
  exists,
  jsonError,
  listTree,
  pkgName,
  sharedTemplateStore,
  sorted,
  splitPycache,
  stagePkg,
  unionOf,
  type StagedPkg,
  type StoreCopy,
} from '../_helpers/txn-trees.js';
import { TORTURE } from '../_helpers/torture.js';
import type { PkgJson, TxnJson } from '../_helpers/json.js';

interface GcJson {
  entriesRemoved: Array<{ name: string }>;
  prefixes: number;
  entriesKept: number;
}

// pkg0..pkg{N-1} (N = 16, or 32 with PSTORE_TORTURE), added once to a template store that tests copy.
const N_MAX = TORTURE ? 32 : 16;
const storeCopy = sharedTemplateStore('parallel', N_MAX);

/** A copy of the template store, with the first `n` packages to use (the rest stay unused). */
async function storeWith(t: ExecutionContext, tag: string, n: number): Promise<StoreCopy> {
  const copy = await storeCopy(t, tag);
  return { ...copy, pkgs: copy.pkgs.slice(0, n) };
}

/** Start every command at once (no per-worker cap) and collect all results. */
async function allAtOnce(
  store: string,
  commands: ReadonlyArray<readonly string[]>,
  env: Record<string, string> = {},
): Promise<CliResult[]> {
  return Promise.all(commands.map((args) => spawnStoreCli(store, args, env, 170_000).done));
}

/**
 * `compileall.compile_dir(DIR, force=True)` over and over in one python3 until stopped:
 * byte-compiled files appear in __pycache__ directories inside the prefix while pstore writes into
 * the same directories. One interpreter for every round (not `python3 -m compileall` per round,
 * whose start-up was most of a round's CPU and left the prefix untouched meanwhile); a 10 ms pause
 * between rounds keeps it from taking a whole core from the writers on a 2-core machine.
 */
function compileLoop(dir: string, stopFile: string) {
  const script = [
    'import compileall, os, sys, time',
    'dir, stop, n = sys.argv[1], sys.argv[2], 0',
    'while not os.path.exists(stop):',
    '    try:',
    '        if os.path.isdir(dir) and compileall.compile_dir(dir, quiet=2, force=True): n += 1',
    '    except OSError: pass',
    '    time.sleep(0.01 if os.path.isdir(dir) else 0.02)',
    'print(n)',
  ].join('\n');
  const child = spawn('python3', ['-c', script, dir, stopFile], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const done = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => resolve(Number(out.trim())));
  });
  return {
    async stop(): Promise<number> {
      await fsp.writeFile(stopFile, '');
      return done;
    },
    kill: () => child.kill('SIGKILL'),
  };
}

/**
 * `VERB NAME --prefix PREFIX` for every package at once while compileall loops over the prefix
 * (stopped by `stopFile`); each must exit 0. Returns the results and how often compileall ran.
 */
async function allWhileCompiling(
  t: ExecutionContext,
  { store, dir, pkgs }: StoreCopy,
  prefix: string,
  verb: 'activate' | 'deactivate',
): Promise<{ results: CliResult[]; rounds: number }> {
  const loop = compileLoop(path.join(prefix, SITE), path.join(dir, `stop-compiling-${verb}`));
  t.teardown(loop.kill);
  let results: CliResult[];
  let rounds: number;
  try {
    results = await allAtOnce(
      store,
      pkgs.map((p) => [verb, p.name, '--prefix', prefix, '--json']),
    );
  } finally {
    rounds = await loop.stop();
  }
  for (const [i, r] of results.entries()) t.is(r.code, 0, `${verb} ${pkgName(i)}: ${describe(r)}`);
  return { results, rounds };
}

const names = (pkgs: ReadonlyArray<Pick<PkgJson, 'name'>>) => pkgs.map((p) => p.name).sort();

/**
 * After the spawned writers: the prefix holds exactly `pkgs` (its status, its tree against the
 * fixtures, a clean verify), read through the library, one prefix at a time. The writers are what
 * these tests spawn; status and verify --prefix have their CLI contracts in cli/prefix-contract
 * and txn/activate.
 */
async function assertPrefixHolds(
  t: ExecutionContext,
  opened: Store,
  dir: string,
  pkgs: readonly StagedPkg[],
  generation?: number,
): Promise<void> {
  const prefix = opened.prefix(dir);
  const st = await prefix.status();
  t.like(st, { transactionInProgress: false, ...(generation ? { generation } : {}) });
  t.deepEqual(names(st.packages), pkgs.map((p) => p.name).sort(), `status of ${dir}`);
  t.deepEqual(await listTree(dir), await unionOf(pkgs), `the tree of ${dir}`);
  t.like(await prefix.verify(), { ok: true, missing: [], modified: [], strays: [] }, dir);
}

/** The store verifies (as `pstore verify` exits 0 exactly when `ok`), read through the library. */
async function assertStoreVerifies(t: ExecutionContext, opened: Store): Promise<void> {
  const v = await opened.verify();
  t.true(v.ok, `store verify: ${JSON.stringify(v.problems)}`);
}

for (const n of TORTURE ? [16, 32] : [16]) {
  test.serial(
    `${n} activate processes at once into one prefix, with compileall writing __pycache__ meanwhile`,
    async (t) => {
      const copy = await storeWith(t, 'par1', n);
      const { dir, pkgs } = copy;
      const prefix = path.join(dir, 'prefix');
      const { results, rounds } = await allWhileCompiling(t, copy, prefix, 'activate');
      t.log(`compileall ran ${rounds} times during the activations`);
      const txns = results.map((r) => jsonOut<TxnJson>(r));
      // Writers served together (group commit, SPEC.md §Group commit) share one generation.
      const last = Math.max(...txns.map((x) => x.generation));
      t.deepEqual(
        [...new Set(txns.map((x) => x.generation))].sort((a, b) => a - b),
        Array.from({ length: last }, (_, i) => i + 1),
        'every generation 1..G was made by a writer',
      );
      for (const x of txns) {
        t.is(x.previousGeneration, x.generation - 1, 'transactions ran one after another');
        t.is(x.activated.length, 1);
        t.deepEqual(x.deactivated, []);
      }

      // The checks after the spawned writers read through the library (status, generations and
      // verify --prefix have their CLI contracts in cli/prefix-contract and txn/activate).
      const handle = openStore({ path: copy.store }).prefix(prefix);
      const status = await handle.status();
      t.like(status, { generation: last, transactionInProgress: false });
      t.deepEqual(
        names(status.packages),
        pkgs.map((p) => p.name).sort(),
        'status lists every package',
      );

      const gens = await handle.generations();
      t.deepEqual(
        gens.map((g) => g.generation),
        Array.from({ length: last }, (_, i) => i + 1),
        'generations 1..G',
      );
      for (const g of gens) {
        // No lost update: each generation holds exactly what the writers of it and before it
        // activated.
        const upTo = txns.filter((x) => x.generation <= g.generation);
        t.deepEqual(
          names(g.packages),
          names(upTo.flatMap((x) => x.activated)),
          `generation ${g.generation} holds what writers of generations 1..${g.generation} activated`,
        );
      }

      const { plain, pycache } = splitPycache(await listTree(prefix));
      t.deepEqual(
        sorted(plain),
        await unionOf(pkgs),
        'the tree is the union of the manifests, plus __pycache__ only',
      );
      t.true(Object.keys(pycache).length > 0, 'compileall did write into the prefix');
      for (const [rel, what] of Object.entries(pycache)) {
        const ok =
          (rel.endsWith('/__pycache__') && what === 'dir') ||
          (/\/__pycache__\/[^/]+\.cpython-\d+\.pyc$/.test(rel) && what.startsWith('file'));
        t.true(ok, `only byte-compiled files appear beside the packages: ${rel} (${what})`);
      }
      t.like(await handle.verify(), { ok: true, missing: [], modified: [], strays: [] });
      t.false(await exists(path.join(prefix, '.pstore', 'journal.json')));

      if (!TORTURE) return;
      // And all of them out again, at once, while Python keeps compiling.
      const out = await allWhileCompiling(t, copy, prefix, 'deactivate');
      const end = await handle.status();
      t.is(end.generation, Math.max(...out.results.map((r) => jsonOut<TxnJson>(r).generation)));
      t.deepEqual(end.packages, []);
      // Nothing of any package is left; only bytecode Python wrote after pstore had cleaned a
      // directory may keep that directory (and its parents) alive.
      const left = await listTree(prefix);
      const pyc = Object.keys(left).filter((k) => k.split('/').includes('__pycache__'));
      for (const k of Object.keys(left)) {
        t.true(
          pyc.some((q) => q === k || q.startsWith(`${k}/`)),
          `left behind: ${k} (${left[k]})`,
        );
      }
      t.like(await handle.verify(), { ok: true, missing: [], modified: [], strays: [] });
    },
  );
}

test.serial('16 activations at once into 16 new prefixes of one store', async (t) => {
  const n = N_MAX;
  const { dir, store, cli, pkgs } = await storeWith(t, 'par16', n);
  // Half the prefixes below directories that do not exist yet, half of them generations layout.
  const prefixOf = (i: number) => path.join(dir, 'prefixes', i % 2 ? `deep/p${i}` : `p${i}`);
  const results = await allAtOnce(
    store,
    pkgs.map((p, i) => [
      'activate',
      p.name,
      '--prefix',
      prefixOf(i),
      '--json',
      ...(i % 4 === 3 ? ['--layout', 'generations'] : []),
    ]),
  );
  for (const [i, r] of results.entries()) {
    t.is(r.code, 0, `activate into ${prefixOf(i)}: ${describe(r)}`);
    t.like(jsonOut<TxnJson>(r), { generation: 1, previousGeneration: 0 });
  }
  const opened = openStore({ path: store });
  for (const [i, p] of pkgs.entries()) await assertPrefixHolds(t, opened, prefixOf(i), [p], 1);
  // Every prefix was registered in the index (no registration lost to LevelDB contention): a gc
  // with no grace period keeps every entry, because each is rooted by its prefix.
  const gc = await cli(['gc', '--older-than', '0', '--dry-run', '--json']);
  t.is(gc.code, 0, describe(gc));
  t.like(jsonOut<GcJson>(gc), { prefixes: n, entriesRemoved: [], entriesKept: n });
  await assertStoreVerifies(t, opened);
});

test.serial(
  '8 parallel add → activate pipelines while gc --older-than 0 runs in a loop',
  async (t) => {
    const n = TORTURE ? 16 : 8;
    const dir = await tempDir(t, 'pipe');
    const store = path.join(dir, 'store');
    const cli = storeCli(store);
    // A seed prefix, so gc has a rooted entry whose objects (the shared copyright) new adds reuse.
    const seed = await stagePkg(path.join(dir, 'src'), 'seed');
    await addPkgs(store, [seed]);
    const seeded = await cli(['activate', 'seed', '--prefix', path.join(dir, 'seedprefix')]);
    t.is(seeded.code, 0, describe(seeded));

    const pkgs: StagedPkg[] = await Promise.all(
      Array.from({ length: n }, (_, i) => stagePkg(path.join(dir, 'src'), `pipe${i}`)),
    );
    const prefixOf = (i: number) => path.join(dir, 'prefixes', `p${i % 4}`);

    // gc takes the store lock exclusive and requests do not queue (SPEC §Locks): a gc that
    // waits would starve behind overlapping adds and activations and never run between them. So the
    // loop tries with --wait 0 again and again: busy (5) is an expected answer, anything else fails.
    let running = true;
    let gcRuns = 0;
    let gcBusy = 0;
    const gcFailures: string[] = [];
    const gcLoop = (async () => {
      while (running) {
        const r = await cli(['gc', '--older-than', '0', '--wait', '0', '--json'], {
          unlimited: true,
        });
        if (r.code === 0) gcRuns++;
        else if (r.code === 5 && jsonError(r).code === 'EPSTORE_BUSY') gcBusy++;
        else gcFailures.push(describe(r));
      }
    })();

    /** add X && activate X; an activation whose entry gc forgot in between is counted, then retried. */
    const lostToGc: string[] = [];
    const pipeline = async (p: StagedPkg, i: number, delayMs: number): Promise<CliResult> => {
      await new Promise((r) => setTimeout(r, delayMs));
      // Group commit makes the others finish quickly, and gc is refused while any of them holds
      // the store: the last pipeline waits (30 s at most) until gc has run once, so that gc runs
      // between pipelines of this set however the machine's load spaces them.
      if (i === n - 1 && delayMs > 0)
        for (const until = Date.now() + 30_000; gcRuns === 0 && Date.now() < until;)
          await new Promise((r) => setTimeout(r, 50));
      for (let attempt = 0; ; attempt++) {
        const add = await cli(['add', p.dir, '--name', p.name, '--version', p.version, '--json'], {
          unlimited: true,
        });
        if (add.code !== 0) return add;
        const act = await cli(
          ['activate', `${p.name}@${p.version}`, '--prefix', prefixOf(i), '--json'],
          { unlimited: true },
        );
        if (act.code === 6 && attempt < 3) {
          const e = jsonError(act);
          if (e.code === 'EPSTORE_NOT_FOUND' && e.subject === `${p.name}@${p.version}`) {
            lostToGc.push(p.name);
            continue;
          }
        }
        return act;
      }
    };
    let results: CliResult[];
    try {
      results = await Promise.all(pkgs.map((p, i) => pipeline(p, i, i * 250))); // staggered, so gc finds moments to run
    } finally {
      running = false;
      await gcLoop;
    }
    // A pipeline that kept losing its entry runs once more with gc stopped, so that the end state
    // below is still checked in full.
    const retried = await Promise.all(
      results.map(async (r, i) => (r.code === 6 ? pipeline(pkgs[i]!, i, 0) : r)),
    );
    t.log(
      `gc ran ${gcRuns} times (${gcBusy} times busy); entries forgotten between add and activate: ${lostToGc.length ? lostToGc.join(' ') : 'none'}`,
    );
    t.deepEqual(gcFailures, [], 'every gc run succeeded');
    for (const [i, r] of retried.entries())
      t.is(r.code, 0, `pipeline ${pkgs[i]!.name}: ${describe(r)}`);
    t.true(gcRuns >= 1, 'gc really ran alongside the pipelines');
    // With --older-than 0 there is no grace period, and the window between `add` exiting and
    // `activate` resolving the ref is covered by nothing else: a gc that lands there forgets the
    // entry (as it must: "gc --older-than 0 removes an unreferenced entry", see gc-roots.test.ts).
    // The only acceptable symptom is the clean one retried above, exit 6 EPSTORE_NOT_FOUND naming the
    // ref (the pipeline's only `continue`); any other failure of add, activate or gc fails this test.

    const opened = openStore({ path: store });
    for (let k = 0; k < Math.min(4, n); k++) {
      const active = pkgs.filter((_, i) => i % 4 === k);
      await assertPrefixHolds(t, opened, prefixOf(k), active);
    }
    await assertPrefixHolds(t, opened, path.join(dir, 'seedprefix'), [seed]);
    await assertStoreVerifies(t, opened);
    // Every entry is now rooted by a prefix: one more gc removes nothing.
    const gc = await cli(['gc', '--older-than', '0', '--json']);
    t.like(jsonOut<GcJson>(gc), { entriesRemoved: [] });
    await assertStoreVerifies(t, opened);
  },
);
