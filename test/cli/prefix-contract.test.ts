// The CLI contract of the prefix commands: help, usage errors (exit 2), not-found (exit 6) naming
// the subject, --json shapes, --quiet, and "a refused command changes nothing".

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { PREFIX_COMMANDS, describe, jsonOut, runCli, storeCli } from '../_helpers/cli.js';
import { assertError, assertJsonError } from '../_helpers/cli-errors.js';
import { snapshotDir } from '../_helpers/snapshot.js';
import { buildTree } from '../_helpers/tree.js';
import { makeTemp, removeTree, tempDir } from '../_helpers/tmp.js';
import { openStore } from '../../lib/index.js';
import {
  addPkgs,
  exists,
  listTree,
  pkgSpec,
  unionOf,
  type StagedPkg,
} from '../_helpers/txn-trees.js';
import type { PkgJson, TxnJson } from '../_helpers/json.js';

// One store for the whole file, with pkg1@1.0, pkg1@2.0 and pkg2@1.0; every test uses its own prefixes.
let root: string;
let store: string;
const pkgs: Record<string, StagedPkg & { id: string }> = {};

test.before(async () => {
  root = await makeTemp('prefix-contract');
  store = path.join(root, 'store');
  const staged: StagedPkg[] = [];
  for (const [name, version] of [
    ['pkg1', '1.0'],
    ['pkg1', '2.0'],
    ['pkg2', '1.0'],
  ] as const) {
    const dir = await buildTree(
      path.join(root, 'src', `${name}-${version}`),
      pkgSpec(name, { version }),
    );
    staged.push({ name, version, dir });
  }
  // setup through the library; the prefix commands are what this file spawns
  const ids = await addPkgs(store, staged);
  for (const p of staged)
    pkgs[`${p.name}@${p.version}`] = { ...p, id: ids.get(`${p.name}@${p.version}`)! };
});

test.after.always(async () => {
  if (root) await removeTree(root);
});

const cli = (args: readonly string[]) => storeCli(store)(args);

async function prefixWith(
  t: ExecutionContext,
  refs: string[],
  layout: 'inplace' | 'generations' = 'inplace',
): Promise<string> {
  const prefix = path.join(await tempDir(t, 'pfx'), 'prefix');
  // setup through the library: the command under test comes after
  await openStore({ path: store }).prefix(prefix, { layout }).activate(refs);
  return prefix;
}

/** The prefix's tree plus its pstore state, for "nothing changed". */
async function everything(prefix: string): Promise<unknown> {
  return { tree: await listTree(prefix), state: await snapshotDir(path.join(prefix, '.pstore')) };
}

// `c --help` and `help c` of every command (each the same text, each a usage with the global
// options, each prefix command's naming --prefix) and pstore --help listing every prefix command are
// cli/contract's help test; the short form is checked here.
test('-h of every prefix command exits 0 and documents --prefix', async (t) => {
  await Promise.all(
    PREFIX_COMMANDS.map(async (c) => {
      const r = await runCli([c, '-h']);
      t.is(r.code, 0, `${c} -h: ${describe(r)}`);
      t.regex(r.stdout, new RegExp(`^usage: pstore ${c}`), `${c} -h`);
      t.true(r.stdout.includes('--prefix'), `${c} -h mentions --prefix`);
      t.is(r.stderr, '');
    }),
  );
});

test('a missing --prefix is a usage error (exit 2) naming --prefix', async (t) => {
  const args: Record<(typeof PREFIX_COMMANDS)[number], string[]> = {
    activate: ['activate', 'pkg1'],
    deactivate: ['deactivate', 'pkg1'],
    rollback: ['rollback'],
    generations: ['generations'],
    status: ['status'],
    recover: ['recover'],
    prune: ['prune', '--keep', '1'],
    hash: ['hash'],
  };
  // (other tests of this file register prefixes in the shared store meanwhile: compare entries and objects)
  const storeState = () =>
    snapshotDir(store, { exclude: ['index-v1', 'locks', 'prefixes-v1'], dirs: false });
  const before = await storeState();
  await Promise.all(
    PREFIX_COMMANDS.map(async (c) => {
      assertError(t, await cli(args[c]), 2, 'EPSTORE_USAGE', '--prefix');
      assertJsonError(t, await cli([...args[c], '--json']), 2, 'EPSTORE_USAGE', '--prefix');
    }),
  );
  t.deepEqual(await storeState(), before);
});

test('a bad --layout or --link value is a usage error (exit 2) and creates nothing', async (t) => {
  const dir = await tempDir(t, 'badopt');
  const fresh = path.join(dir, 'fresh');
  const existing = await prefixWith(t, ['pkg2']);
  const before = await everything(existing);
  for (const [args, flag] of [
    [['activate', 'pkg1', '--prefix', fresh, '--layout', 'flat'], '--layout'],
    [['activate', 'pkg1', '--prefix', fresh, '--link', 'symlink'], '--link'],
    [['activate', 'pkg1', '--prefix', existing, '--link', 'HARDLINK'], '--link'],
    [['deactivate', 'pkg2', '--prefix', existing, '--link', 'nope'], '--link'],
    [['rollback', '--prefix', existing, '--layout', ''], '--layout'],
  ] as const) {
    assertJsonError(t, await cli([...args, '--json']), 2, 'EPSTORE_USAGE', flag);
  }
  t.false(await exists(fresh), 'no prefix was created');
  t.deepEqual(await everything(existing), before, 'the existing prefix is unchanged');
});

test('deactivating a name that is not active exits 6 naming it and changes nothing', async (t) => {
  const prefix = await prefixWith(t, ['pkg2']);
  const before = await everything(prefix);
  assertError(
    t,
    await cli(['deactivate', 'pkg1', '--prefix', prefix]),
    6,
    'EPSTORE_NOT_FOUND',
    'pkg1',
  );
  assertJsonError(
    t,
    await cli(['deactivate', 'pkg2', 'nosuch', '--prefix', prefix, '--json']),
    6,
    'EPSTORE_NOT_FOUND',
    'nosuch',
  );
  t.deepEqual(await everything(prefix), before, 'pkg2 is still active, no generation was made');
});

test('every prefix command on a directory pstore never managed exits 6 naming it and leaves it alone', async (t) => {
  const dir = await tempDir(t, 'unmanaged');
  const plain = await buildTree(path.join(dir, 'plain'), {
    '.dotfile': 'x\n',
    'usr/bin/thing': 'y\n',
    empty: {},
  });
  const missing = path.join(dir, 'missing');
  const before = await snapshotDir(dir);
  const commands = (p: string): string[][] => [
    ['status', '--prefix', p],
    ['generations', '--prefix', p],
    ['hash', '--prefix', p],
    ['recover', '--prefix', p],
    ['prune', '--prefix', p, '--keep', '1'],
    ['rollback', '--prefix', p],
    ['deactivate', 'pkg1', '--prefix', p],
    ['verify', '--prefix', p],
  ];
  for (const p of [plain, missing]) {
    await Promise.all(
      commands(p).map(async (args) => {
        assertError(t, await cli(args), 6, 'EPSTORE_NOT_FOUND', p);
        assertJsonError(t, await cli([...args, '--json']), 6, 'EPSTORE_NOT_FOUND', p);
      }),
    );
  }
  t.deepEqual(await snapshotDir(dir), before, 'nothing was created or changed');
  t.false(await exists(missing));
});

test('--json shapes: activate, deactivate, rollback, status, generations, hash, recover, prune', async (t) => {
  const prefix = path.join(await tempDir(t, 'json'), 'prefix');
  const a = await cli(['activate', 'pkg1@1.0', 'pkg2', '--prefix', prefix, '--json']);
  t.is(a.code, 0, describe(a));
  t.is(a.stderr, '');
  const aj = jsonOut<TxnJson>(a);
  t.is(aj.prefix, await fsp.realpath(prefix), 'the prefix, absolute and canonical');
  t.like(aj, {
    layout: 'inplace',
    generation: 1,
    previousGeneration: 0,
    noop: false,
    deactivated: [],
  });
  t.deepEqual(aj.activated.map((p) => `${p.name}@${p.version}:${p.id}`).sort(), [
    `pkg1@1.0:${pkgs['pkg1@1.0']!.id}`,
    `pkg2@1.0:${pkgs['pkg2@1.0']!.id}`,
  ]);
  t.true(['hardlink', 'reflink', 'copy'].includes(aj.link), aj.link);

  const up = jsonOut<TxnJson>(await cli(['activate', 'pkg1@2.0', '--prefix', prefix, '--json']));
  t.like(up, { generation: 2, previousGeneration: 1 });
  t.deepEqual(
    up.activated.map((p) => p.id),
    [pkgs['pkg1@2.0']!.id],
  );
  t.deepEqual(
    up.deactivated.map((p) => p.id),
    [pkgs['pkg1@1.0']!.id],
    'an upgrade deactivates the old version',
  );

  const noop = jsonOut<TxnJson>(await cli(['activate', 'pkg1@2.0', '--prefix', prefix, '--json']));
  t.like(noop, { noop: true, generation: 2, activated: [], deactivated: [] });

  const d = jsonOut<TxnJson>(await cli(['deactivate', 'pkg2', '--prefix', prefix, '--json']));
  t.like(d, { generation: 3, previousGeneration: 2, activated: [] });
  t.deepEqual(
    d.deactivated.map((p) => p.name),
    ['pkg2'],
  );

  const rb = jsonOut<TxnJson>(await cli(['rollback', '--prefix', prefix, '--json']));
  t.like(rb, { generation: 2, previousGeneration: 3 });
  t.deepEqual(
    rb.activated.map((p) => p.name),
    ['pkg2'],
  );

  const st = jsonOut<{
    prefix: string;
    layout: string;
    store: string;
    generation: number;
    packages: PkgJson[];
    transactionInProgress: boolean;
  }>(await cli(['status', '--prefix', prefix, '--json']));
  t.like(st, { layout: 'inplace', generation: 2, transactionInProgress: false, store });
  t.deepEqual(st.packages.map((p) => `${p.name}@${p.version}:${p.id}`).sort(), [
    `pkg1@2.0:${pkgs['pkg1@2.0']!.id}`,
    `pkg2@1.0:${pkgs['pkg2@1.0']!.id}`,
  ]);

  const gens = jsonOut<
    Array<{ generation: number; current: boolean; createdAt: string; packages: PkgJson[] }>
  >(await cli(['generations', '--prefix', prefix, '--json']));
  t.deepEqual(
    gens.map((g) => [
      g.generation,
      g.current,
      g.packages.map((p) => `${p.name}@${p.version}`).sort(),
    ]),
    [
      [1, false, ['pkg1@1.0', 'pkg2@1.0']],
      [2, true, ['pkg1@2.0', 'pkg2@1.0']],
      [3, false, ['pkg1@2.0']],
    ],
  );
  for (const g of gens)
    t.false(Number.isNaN(Date.parse(g.createdAt)), `createdAt is a date: ${g.createdAt}`);

  const h = jsonOut<{ prefix: string; generation: number; digest: string; paths: number }>(
    await cli(['hash', '--prefix', prefix, '--json']),
  );
  t.like(h, { generation: 2 });
  t.regex(h.digest, /^sha512-[A-Za-z0-9+/]+=*$/);
  t.is(
    h.paths,
    Object.keys(await unionOf([pkgs['pkg1@2.0']!, pkgs['pkg2@1.0']!])).length,
    'the digest covers every owned path',
  );
  // The same packages in a generations prefix hash the same: the digest is of the tree only.
  const other = await prefixWith(t, ['pkg2', 'pkg1@2.0'], 'generations');
  t.is(
    jsonOut<{ digest: string }>(await cli(['hash', '--prefix', other, '--json'])).digest,
    h.digest,
  );

  t.deepEqual(jsonOut(await cli(['recover', '--prefix', prefix, '--json'])), { recovered: false });
  const pr = jsonOut<{ prefix: string; removed: number[]; kept: number[] }>(
    await cli(['prune', '--prefix', prefix, '--keep', '1', '--json']),
  );
  t.deepEqual(pr.removed.sort(), [1]);
  t.deepEqual(pr.kept.sort(), [2, 3]);
});

test('--quiet prints nothing on success', async (t) => {
  const prefix = path.join(await tempDir(t, 'quiet'), 'prefix');
  for (const args of [
    ['activate', 'pkg1@1.0', 'pkg2', '--prefix', prefix],
    ['activate', 'pkg1@2.0', '--prefix', prefix],
    ['deactivate', 'pkg2', '--prefix', prefix],
    ['rollback', '--prefix', prefix],
    ['status', '--prefix', prefix],
    ['generations', '--prefix', prefix],
    ['hash', '--prefix', prefix],
    ['recover', '--prefix', prefix],
    ['verify', '--prefix', prefix],
    ['prune', '--prefix', prefix, '--keep', '1'],
  ]) {
    for (const q of ['--quiet', '-q']) {
      const r = await cli([...args, q]);
      t.is(r.code, 0, `${args[0]} ${q}: ${describe(r)}`);
      t.is(r.stdout, '', `${args[0]} ${q} prints nothing on stdout`);
      t.is(r.stderr, '', `${args[0]} ${q} prints nothing on stderr`);
      if (args[0] === 'activate' || args[0] === 'deactivate' || args[0] === 'rollback') break; // not twice
    }
  }
  // and an error is still printed
  const r = await cli(['deactivate', 'nosuch', '--prefix', prefix, '--quiet']);
  assertError(t, r, 6, 'EPSTORE_NOT_FOUND', 'nosuch');
});

test('--layout that does not match an existing prefix is a usage error (exit 2), nothing changes', async (t) => {
  const inplace = await prefixWith(t, ['pkg2'], 'inplace');
  const generations = await prefixWith(t, ['pkg2'], 'generations');
  // a generations prefix keeps its state beside it, so its own tree is all there is to compare
  const layouts = [
    { prefix: inplace, wrong: 'generations', state: everything },
    { prefix: generations, wrong: 'inplace', state: listTree },
  ];
  for (const { prefix, wrong, state } of layouts) {
    const before = await state(prefix);
    assertJsonError(
      t,
      await cli(['activate', 'pkg1@2.0', '--prefix', prefix, '--layout', wrong, '--json']),
      2,
      'EPSTORE_USAGE',
      '--layout',
    );
    t.deepEqual(await state(prefix), before, `${wrong} asked of ${prefix}: nothing changed`);
  }
  t.true((await fsp.lstat(generations)).isSymbolicLink());
  // the matching layout, or none, is fine
  t.is(
    (await cli(['activate', 'pkg1@2.0', '--prefix', generations, '--layout', 'generations'])).code,
    0,
  );
  t.is((await cli(['activate', 'pkg1@2.0', '--prefix', inplace])).code, 0);
});

test('the same name twice in one activate is a usage error (exit 2) naming it; nothing changes', async (t) => {
  const prefix = await prefixWith(t, ['pkg2']);
  const before = await everything(prefix);
  for (const refs of [
    ['pkg1@1.0', 'pkg1@2.0'],
    ['pkg1@2.0', 'pkg1@2.0'], // a bare pkg1 is ambiguous here: the store has two versions
    ['pkg1@1.0', pkgs['pkg1@1.0']!.id],
  ]) {
    assertJsonError(
      t,
      await cli(['activate', ...refs, '--prefix', prefix, '--json']),
      2,
      'EPSTORE_USAGE',
      'pkg1',
    );
  }
  t.deepEqual(await everything(prefix), before);
});

test('an unknown REF exits 6 naming the ref; an existing prefix is unchanged and a new one is not created', async (t) => {
  const prefix = await prefixWith(t, ['pkg2']);
  const before = await everything(prefix);
  assertError(
    t,
    await cli(['activate', 'pkg1@2.0', 'nosuch@1.0', '--prefix', prefix]),
    6,
    'EPSTORE_NOT_FOUND',
    'nosuch@1.0',
  );
  assertJsonError(
    t,
    await cli(['activate', 'pkg1@3.0', '--prefix', prefix, '--json']),
    6,
    'EPSTORE_NOT_FOUND',
    'pkg1@3.0',
  );
  assertJsonError(
    t,
    await cli(['activate', 'deadbeefdeadbeef', '--prefix', prefix, '--json']),
    6,
    'EPSTORE_NOT_FOUND',
    'deadbeefdeadbeef',
  );
  t.deepEqual(await everything(prefix), before);
  const fresh = path.join(path.dirname(prefix), 'fresh', 'deeper');
  assertError(
    t,
    await cli(['activate', 'nosuch', '--prefix', fresh]),
    6,
    'EPSTORE_NOT_FOUND',
    'nosuch',
  );
  t.false(await exists(fresh), 'the new prefix was not left behind');
  t.false(await exists(path.dirname(fresh)), 'nor the parent directory made for it');
});

test('rollback and prune argument errors: --to not a number (2), no such generation (6), --keep not a number (2)', async (t) => {
  const prefix = await prefixWith(t, ['pkg2']);
  const before = await everything(prefix);
  const refusals: Array<[args: string[], exit: number, code: string, subject: string]> = [
    [['rollback', '--to', 'two'], 2, 'EPSTORE_USAGE', '--to'],
    [['rollback', '--to', '99'], 6, 'EPSTORE_NOT_FOUND', '99'],
    [['prune', '--keep', '-1'], 2, 'EPSTORE_USAGE', '--keep'],
    [['prune', '--keep', 'all'], 2, 'EPSTORE_USAGE', '--keep'],
    [['prune'], 2, 'EPSTORE_USAGE', '--keep'],
    [['status', 'extra'], 2, 'EPSTORE_USAGE', 'extra'],
    [['activate'], 2, 'EPSTORE_USAGE', 'activate'],
  ];
  for (const [args, exit, code, subject] of refusals)
    assertJsonError(t, await cli([...args, '--prefix', prefix, '--json']), exit, code, subject);
  const r = await cli(['rollback', '--prefix', prefix, '--json']);
  t.is(
    r.code,
    6,
    `generation 1 has none before it (generation 0, the empty prefix, is not a generation): ${describe(r)}`,
  );
  t.deepEqual(await everything(prefix), before);
  t.deepEqual(await listTree(prefix), await unionOf([pkgs['pkg2@1.0']!]));
});
