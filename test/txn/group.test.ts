// Group serving (SPEC.md §Group commit), with real processes: a writer held inside its transaction
// (PSTORE_TEST_PAUSEPOINT) while others queue behind it. Each waiter's request is seen on disk by
// its token file (<state>/.pstore-tmp-group-TOKEN), so the test knows every waiter has asked before
// the holder goes on. Serial: each test holds a writer (at most PAUSE) while its waiters start. The
// holder then runs the requests it took as one transaction (one generation) and each waiter prints
// its own part of it (grouped: true) with its own exit code; a request that fails, fails alone;
// requests naming one name run one after the other; a holder killed after taking the requests, or
// inside the merged transaction, leaves them to run their own transactions.

import { spawn as spawnChild } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { openStore } from '../../lib/index.js';
import { describe, jsonOut, spawnStoreCli, storeCli, type CliResult } from '../_helpers/cli.js';
import {
  exists,
  jsonError,
  listTree,
  sharedTemplateStore,
  unionOf,
  until,
  withPkg0Active,
  writerLockHeld,
  type StagedPkg,
} from '../_helpers/txn-trees.js';
import type { PkgJson, TxnJson } from '../_helpers/json.js';
import { HAS_STRACE } from '../_helpers/strace.js';

// pkg0..pkg7, added once to a template store that each test copies.
const storeCopy = sharedTemplateStore('group', 8);
// How long the holder stays inside its transaction at most: long enough for every waiter to start
// and ask. Each test releases it (PSTORE_TEST_PAUSE_RELEASE) as soon as its waiters have asked.
const PAUSE = 'apply:after-files:60000';

interface Fixture {
  dir: string;
  store: string;
  prefix: string;
  pkgs: StagedPkg[];
  cli: ReturnType<typeof storeCli>;
}

/** A store with pkg0..pkg7 and a prefix at generation 1 with pkg0 active. */
async function fixture(t: ExecutionContext): Promise<Fixture> {
  return withPkg0Active(t, await storeCopy(t));
}

const spawn = (
  f: Fixture,
  args: string[],
  env: Record<string, string> = {},
  under?: readonly string[],
) => spawnStoreCli(f.store, args, env, 170_000, under);

/** The file whose existence ends the holder's pause: a sibling of the prefix, not in it. */
const releaseFile = (f: Fixture) => `${f.prefix}.release`;
const holdEnv = (f: Fixture) => ({
  PSTORE_TEST_PAUSEPOINT: PAUSE,
  PSTORE_TEST_PAUSE_RELEASE: releaseFile(f),
});

/** Once `n` waiters have asked (their token files are there), let the holder go on. */
async function releaseWhenAsked(f: Fixture, n: number): Promise<void> {
  await until(`${n} waiter(s) to ask`, async () => (await tokens(f)).length === n);
  await fsp.writeFile(releaseFile(f), '');
}

const stateDir = (f: Fixture) => path.join(f.prefix, '.pstore');

async function tokens(f: Fixture): Promise<string[]> {
  const names = await fsp.readdir(stateDir(f)).catch(() => [] as string[]);
  return names.filter((n) => n.startsWith('.pstore-tmp-group-'));
}

/**
 * `activate pkg1` held after placing its files for `pauseMs`, then each of `waiters` (argument
 * lists) started once the holder has its journal; resolves once every waiter has asked (its token
 * file is there), with the holder and the waiters.
 */
async function queueBehindHolder(
  f: Fixture,
  waiters: string[][],
  holderEnv: Record<string, string> = {},
  holderArgs: string[] = [],
  under?: readonly string[],
) {
  const holder = spawn(
    f,
    ['activate', 'pkg1', '--prefix', f.prefix, '--json', ...holderArgs],
    { ...holdEnv(f), ...holderEnv },
    under,
  );
  await until('the holder to write its journal', () =>
    exists(path.join(stateDir(f), 'journal.json')),
  );
  const started = waiters.map((args) => spawn(f, [...args, '--prefix', f.prefix, '--json']));
  return { holder, started };
}

/**
 * After the spawned writers, read through the library (the writers are what these tests spawn;
 * status and verify --prefix have their CLI contracts in cli/prefix-contract and txn/activate).
 */
const prefixOf = (f: Fixture) => openStore({ path: f.store }).prefix(f.prefix);

async function assertClean(t: ExecutionContext, f: Fixture, active: StagedPkg[]): Promise<void> {
  t.like(await prefixOf(f).verify(), { ok: true, missing: [], modified: [], strays: [] });
  t.deepEqual(await listTree(f.prefix), await unionOf(active), 'exactly the active packages');
  t.false(await exists(path.join(stateDir(f), 'journal.json')), 'no journal is left');
}

const names = (pkgs: ReadonlyArray<Pick<PkgJson, 'name'>>) => pkgs.map((p) => p.name).sort();

async function activeNames(f: Fixture): Promise<string[]> {
  return names((await prefixOf(f).status()).packages);
}

/** The numbers of the prefix's generation records. */
async function generations(f: Fixture): Promise<number[]> {
  const records = await fsp.readdir(path.join(stateDir(f), 'generations'));
  return records.map((n) => Number(path.basename(n, '.json'))).sort((a, b) => a - b);
}

async function allDone(rs: ReadonlyArray<{ done: Promise<CliResult> }>): Promise<CliResult[]> {
  return Promise.all(rs.map((r) => r.done));
}

test.serial(
  'six writers queued behind a holder are served by it as one generation: own JSON, grouped',
  async (t) => {
    const f = await fixture(t);
    // pkg7's waiter asks for --verbose: the steps the holder timed for it, as if it ran them.
    const waiting = [2, 3, 4, 5, 6, 7].map((i) => [
      'activate',
      `pkg${i}`,
      ...(i === 7 ? ['--verbose'] : []),
    ]);
    const { holder, started } = await queueBehindHolder(f, waiting);
    await releaseWhenAsked(f, waiting.length);
    const [own, ...served] = await allDone([holder, ...started]);
    t.is(own!.code, 0, describe(own!));
    t.like(jsonOut<TxnJson>(own!), { generation: 2 });
    t.false('grouped' in jsonOut<object>(own!), 'the holder ran its own transaction');
    served.forEach((r, i) => {
      t.is(r.code, 0, `${waiting[i]!.join(' ')}: ${describe(r)}`);
      const j = jsonOut<TxnJson & { grouped?: boolean }>(r);
      t.true(j.grouped, 'served by the holder');
      t.like(j, { generation: 3, previousGeneration: 2, noop: false }, 'the shared generation');
      t.deepEqual(names(j.activated), [`pkg${i + 2}`], 'each result is its own');
      t.deepEqual(j.deactivated, []);
    });
    t.deepEqual(await generations(f), [1, 2, 3], 'one generation for the six requests');
    const verbose = served.at(-1)!.stderr;
    for (const step of ['lock', 'recover', 'plan', 'journal', 'apply', 'commit'])
      t.regex(verbose, new RegExp(`^pstore: ${step} [\\d.]+ ms$`, 'm'), `${step} in: ${verbose}`);
    t.deepEqual(await tokens(f), [], 'every token file is gone');
    t.deepEqual(await activeNames(f), f.pkgs.map((p) => p.name).sort());
    await assertClean(t, f, f.pkgs);
  },
);

test.serial(
  "a waiter that asks before the holder swept the prefix's state directory is served: its token stays",
  async (t) => {
    const f = await fixture(t);
    // Held right after it took the lock, before it removes the temp files a crash would leave.
    const holder = spawn(f, ['activate', 'pkg1', '--prefix', f.prefix, '--json'], {
      ...holdEnv(f),
      PSTORE_TEST_PAUSEPOINT: 'prefix:locked:60000',
    });
    await until('the holder to take the lock', () => writerLockHeld(f.prefix));
    // Other tokens the sweep meets: one older than any wait and one naming a process that is gone
    // (swept); one whose waiter has not written its pid yet (kept: it may be asking right now).
    const token = (hex: string) => path.join(stateDir(f), `.pstore-tmp-group-${hex.repeat(32)}`);
    const [old, gone, making] = [token('a'), token('b'), token('c')];
    await fsp.writeFile(old, '');
    const hourAgo = new Date(Date.now() - 3600_000);
    await fsp.utimes(old, hourAgo, hourAgo);
    const exited = spawnChild('true');
    await new Promise((resolve) => exited.once('exit', resolve));
    await fsp.writeFile(gone, `${exited.pid}\n`);
    await fsp.writeFile(making, '');
    const waiter = spawn(f, ['activate', 'pkg2', '--prefix', f.prefix, '--json']);
    await releaseWhenAsked(f, 4);
    const [own, served] = await allDone([holder, waiter]);
    t.is(own!.code, 0, describe(own!));
    t.is(served!.code, 0, describe(served!));
    t.like(jsonOut<TxnJson & { grouped?: boolean }>(served!), { grouped: true, generation: 3 });
    t.false(await exists(old), 'a token older than any wait was swept');
    t.false(await exists(gone), 'a token whose process is gone was swept');
    t.deepEqual(await tokens(f), [path.basename(making)], 'the one being made is kept');
  },
);

test.serial('a request that fails, fails alone with its own code; the others commit', async (t) => {
  const f = await fixture(t);
  // "clash" ships pkg0's files under another name: a conflict with the active pkg0.
  await addAgainAs(t, f, f.pkgs[0]!, 'clash');
  const waiting = [
    ['activate', 'pkg2'],
    ['activate', 'clash'],
    ['activate', 'nosuch@9'],
    ['deactivate', 'pkg5'],
    ['activate', 'pkg3'],
  ];
  const { holder, started } = await queueBehindHolder(f, waiting);
  await releaseWhenAsked(f, waiting.length);
  const [own, ok2, conflict, missing, notActive, ok3] = await allDone([holder, ...started]);
  for (const r of [own!, ok2!, ok3!]) t.is(r.code, 0, describe(r));
  t.is(conflict!.code, 3, describe(conflict!));
  t.is(jsonError(conflict!).code, 'EPSTORE_CONFLICT');
  for (const r of [missing!, notActive!]) {
    t.is(r.code, 6, describe(r));
    t.is(jsonError(r).code, 'EPSTORE_NOT_FOUND');
  }
  t.is(jsonError(missing!).subject, 'nosuch@9', 'the error names the ref');
  t.true(jsonOut<{ grouped?: boolean }>(ok3!).grouped);
  t.deepEqual(await activeNames(f), ['pkg0', 'pkg1', 'pkg2', 'pkg3']);
  await assertClean(
    t,
    f,
    [0, 1, 2, 3].map((i) => f.pkgs[i]!),
  );
});

/** Add a package's tree again under another name (or version): the same paths. */
async function addAgainAs(
  t: ExecutionContext,
  f: Fixture,
  pkg: StagedPkg,
  name: string,
  version = '1',
) {
  const r = await f.cli(['add', pkg.dir, '--name', name, '--version', version]);
  t.is(r.code, 0, describe(r));
}

test.serial(
  'two requests whose files clash: the merged run commits nothing, each runs alone to its own answer',
  async (t) => {
    const f = await fixture(t);
    await addAgainAs(t, f, f.pkgs[2]!, 'twin'); // pkg2's paths under another name
    const waiting = [
      ['activate', 'pkg2'],
      ['activate', 'twin'],
      ['activate', 'pkg3'],
    ];
    const { holder, started } = await queueBehindHolder(f, waiting);
    await releaseWhenAsked(f, waiting.length);
    const [own, pkg2, twin, pkg3] = await allDone([holder, ...started]);
    for (const r of [own!, pkg3!]) t.is(r.code, 0, describe(r));
    t.true(jsonOut<{ grouped?: boolean }>(pkg3!).grouped);
    // Whichever of the two ran first commits; the other meets its files, as run one after the other.
    const [won, lost] = pkg2!.code === 0 ? [pkg2!, twin!] : [twin!, pkg2!];
    t.is(won.code, 0, describe(won));
    t.is(lost.code, 3, describe(lost));
    t.is(jsonError(lost).code, 'EPSTORE_CONFLICT');
    t.deepEqual(await generations(f), [1, 2, 3, 4], 'one generation per request that committed');
    const winner = jsonOut<TxnJson>(won).activated[0]!.name;
    t.deepEqual(await activeNames(f), ['pkg0', 'pkg1', 'pkg3', winner].sort());
    await assertClean(
      t,
      f,
      [0, 1, 2, 3].map((i) => f.pkgs[i]!),
    );
  },
);

test.serial(
  'requests naming one name run one after the other; the rest commit as one generation',
  async (t) => {
    const f = await fixture(t);
    await addAgainAs(t, f, f.pkgs[2]!, 'pkg2', '9');
    const waiting = [
      ['activate', 'pkg2@1.0'],
      ['activate', 'pkg2@9'],
      ['activate', 'pkg3'],
      ['deactivate', 'pkg0'],
    ];
    const { holder, started } = await queueBehindHolder(f, waiting);
    await releaseWhenAsked(f, waiting.length);
    const [own, ...rs] = await allDone([holder, ...started]);
    for (const r of [own!, ...rs]) t.is(r.code, 0, describe(r));
    const [v1, v9, pkg3, gone] = rs.map((r) => jsonOut<TxnJson & { grouped?: boolean }>(r));
    for (const j of [v1!, v9!, pkg3!, gone!]) t.true(j.grouped);
    t.like(pkg3, { generation: 3, previousGeneration: 2 });
    t.like(gone, { generation: 3, previousGeneration: 2, activated: [] });
    t.deepEqual(names(gone!.deactivated), ['pkg0'], 'its own operation only');
    // The one taken second ran alone after the group, replacing the first one's version.
    const [first, second] = v1!.generation < v9!.generation ? [v1!, v9!] : [v9!, v1!];
    t.is(first.generation, 3);
    t.like(second, { generation: 4, previousGeneration: 3 });
    t.deepEqual(second.deactivated, first.activated, 'the second replaced the first');
    t.deepEqual(await generations(f), [1, 2, 3, 4]);
    const active = await prefixOf(f).status();
    t.deepEqual(active.packages.map((p) => `${p.name}@${p.version}`).sort(), [
      'pkg1@1.0',
      `pkg2@${second.activated[0]!.version}`,
      'pkg3@1.0',
    ]);
    await assertClean(
      t,
      f,
      [1, 2, 3].map((i) => f.pkgs[i]!),
    );
  },
);

(HAS_STRACE ? test.serial : test.serial.skip)(
  'a holder opens the ownership index once for all the transactions it runs (strace)',
  async (t) => {
    const f = await fixture(t);
    await addAgainAs(t, f, f.pkgs[2]!, 'pkg2', '9');
    // Its own, the merged one (pkg2@1.0, pkg3), then pkg2@9 alone: three transactions.
    const waiting = [
      ['activate', 'pkg2@1.0'],
      ['activate', 'pkg3'],
      ['activate', 'pkg2@9'],
    ];
    const log = path.join(f.dir, 'holder.strace');
    const under = ['strace', '-f', '-qq', '-e', 'trace=openat', '-o', log];
    const { holder, started } = await queueBehindHolder(f, waiting, {}, [], under);
    await releaseWhenAsked(f, waiting.length);
    for (const r of await allDone([holder, ...started])) t.is(r.code, 0, describe(r));
    const opens = (await fsp.readFile(log, 'utf8'))
      .split('\n')
      .filter((l) => /ownership-v1\/LOCK"/.test(l) && !/= -1/.test(l));
    t.is(opens.length, 1, `LevelDB opens of the ownership index:\n${opens.join('\n')}`);
    t.deepEqual(await generations(f), [1, 2, 3, 4], 'three transactions');
    await assertClean(
      t,
      f,
      [0, 1, 2, 3].map((i) => f.pkgs[i]!),
    );
  },
);

// Crash points inside the merged transaction (the holder's own transaction reaches each once
// first; pkg1 has one marker unit, the group's four packages four). Every one of them comes after
// the journal: the next writer rolls the whole group forward as one generation.
for (const point of [
  'txn:after-journal#2',
  'apply:after-files#2',
  'apply:marker#3',
  'commit:after-generation#2',
  'commit:after-current#2',
]) {
  test.serial(
    `a holder killed (SIGKILL) at ${point} in the merged transaction: all of it or none`,
    async (t) => {
      const f = await fixture(t);
      const group = [2, 3, 4, 5];
      const waiting = group.map((i) => ['activate', `pkg${i}`]);
      const { holder, started } = await queueBehindHolder(f, waiting, {
        PSTORE_TEST_CRASHPOINT: point,
      });
      await releaseWhenAsked(f, waiting.length);
      const [own, ...rest] = await allDone([holder, ...started]);
      t.is(own!.signal, 'SIGKILL', `the holder died in the group: ${describe(own!)}`);
      for (const r of rest) {
        t.is(r.code, 0, describe(r));
        t.true(jsonOut<TxnJson>(r).noop, 'the recovered group had activated it');
      }
      t.deepEqual(await generations(f), [1, 2, 3], 'the group rolled forward as one generation');
      const record = JSON.parse(
        await fsp.readFile(path.join(stateDir(f), 'generations', '3.json'), 'utf8'),
      ) as { packages: PkgJson[] };
      t.deepEqual(names(record.packages), ['pkg0', 'pkg1', ...group.map((i) => `pkg${i}`)]);
      await assertClean(
        t,
        f,
        [0, 1, ...group].map((i) => f.pkgs[i]!),
      );
    },
  );
}

test.serial(
  'a holder killed (SIGKILL) at group:after-take: its waiters run their own transactions',
  async (t) => {
    const f = await fixture(t);
    const waiting = [4, 5, 6].map((i) => ['activate', `pkg${i}`]);
    const { holder, started } = await queueBehindHolder(f, waiting, {
      PSTORE_TEST_CRASHPOINT: 'group:after-take',
    });
    await releaseWhenAsked(f, waiting.length);
    const [own, ...rest] = await allDone([holder, ...started]);
    t.is(own!.signal, 'SIGKILL', `the holder died after taking requests: ${describe(own!)}`);
    for (const r of rest) t.is(r.code, 0, describe(r));
    t.deepEqual(await activeNames(f), ['pkg0', 'pkg1', 'pkg4', 'pkg5', 'pkg6']);
    await assertClean(
      t,
      f,
      [0, 1, 4, 5, 6].map((i) => f.pkgs[i]!),
    );
  },
);

test.serial(
  'a waiter killed (SIGKILL) while queued harms nobody; its request is dropped',
  async (t) => {
    const f = await fixture(t);
    const waiting = [2, 3, 4].map((i) => ['activate', `pkg${i}`]);
    const { holder, started } = await queueBehindHolder(f, waiting);
    await until('every waiter to ask', async () => (await tokens(f)).length === waiting.length);
    started[1]!.child.kill('SIGKILL'); // while the holder still pauses: killed in the queue
    await started[1]!.done;
    await fsp.writeFile(releaseFile(f), '');
    const [own, ok2, killed, ok4] = await allDone([holder, ...started]);
    t.is(killed!.signal, 'SIGKILL');
    for (const r of [own!, ok2!, ok4!]) t.is(r.code, 0, describe(r));
    t.deepEqual(await activeNames(f), ['pkg0', 'pkg1', 'pkg2', 'pkg4']);
    await assertClean(
      t,
      f,
      [0, 1, 2, 4].map((i) => f.pkgs[i]!),
    );
    t.is((await tokens(f)).length, 1, "the killed waiter's token file is left");
    const next = await f.cli(['activate', 'pkg3', '--prefix', f.prefix]);
    t.is(next.code, 0, describe(next));
    t.deepEqual(await tokens(f), [], 'the next writer sweeps it');
  },
);

test.serial(
  '--no-group and PSTORE_NO_GROUP=1: waiters run their own transactions; a --no-group holder serves none',
  async (t) => {
    const f = await fixture(t);
    const holder = spawn(
      f,
      ['activate', 'pkg1', '--prefix', f.prefix, '--json', '--no-group'],
      holdEnv(f),
    );
    await until('the holder to write its journal', () =>
      exists(path.join(stateDir(f), 'journal.json')),
    );
    const asking = spawn(f, ['activate', 'pkg2', '--prefix', f.prefix, '--json']);
    const optOut = spawn(f, ['activate', 'pkg3', '--prefix', f.prefix, '--json', '--no-group']);
    const envOut = spawnStoreCli(f.store, ['activate', 'pkg4', '--prefix', f.prefix, '--json'], {
      PSTORE_NO_GROUP: '1',
    });
    await releaseWhenAsked(f, 1);
    const results = await allDone([holder, asking, optOut, envOut]);
    for (const r of results) {
      t.is(r.code, 0, describe(r));
      t.false('grouped' in jsonOut<object>(r), `ran its own transaction: ${r.stdout}`);
    }
    t.deepEqual(await activeNames(f), ['pkg0', 'pkg1', 'pkg2', 'pkg3', 'pkg4']);
    await assertClean(t, f, f.pkgs.slice(0, 5));
  },
);
