// `--dry-run` on activate, deactivate, sync and rollback (issue 10): the plan (packages, file
// counts, every conflict) is printed and nothing changes — the prefix tree, its state, the store
// (objects, manifests, registrations) and the index are compared byte for byte before and after,
// in both layouts. The exit code is the real run's; the prediction matches what the real run does.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { openStore } from '../../lib/index.js';
import { describe, jsonOut, storeCli, type CliResult } from '../_helpers/cli.js';
import { serialAdd } from '../_helpers/prefix-fixtures.js';
import { snapshotDir, storeSnapshot } from '../_helpers/snapshot.js';
import { buildTree, file } from '../_helpers/tree.js';
import { tempDir } from '../_helpers/tmp.js';

interface Ref {
  name: string;
  version: string;
  id: string;
}
interface Preview {
  generation: number;
  previousGeneration: number;
  noop: boolean;
  dryRun: true;
  plan: {
    added: Ref[];
    removed: Ref[];
    upgraded: Array<{ name: string; from: Ref; to: Ref }>;
    downgraded: Array<{ name: string; from: Ref; to: Ref }>;
    files: { place: number; replace: number; remove: number; mkdirs: number; rmdirs: number };
    conflicts: Array<{ code: string; subject: string; data?: { owners?: string[] } }>;
  };
}

const LAYOUTS = ['inplace', 'generations'] as const;

async function setup(t: ExecutionContext, layout: string) {
  const dir = await tempDir(t, `dry-${layout}`);
  const store = path.join(dir, 'store');
  const cli = storeCli(store);
  const prefix = path.join(dir, 'root', 'prefix');
  const add = async (name: string, version: string, spec: Parameters<typeof buildTree>[1]) => {
    const src = await buildTree(path.join(dir, 'src', `${name}-${version}`), spec);
    // the adds through the library: the transactions and their dry runs are what this file spawns
    const { id } = await serialAdd(() => openStore({ path: store }).add(src, { name, version }));
    return { name, version, id };
  };
  const ok = async (args: string[]) => {
    const r = await cli([...args, '--prefix', prefix, '--layout', layout]);
    t.is(r.code, 0, describe(r));
    return r;
  };
  // Everything a dry run must leave alone: the prefix's parent (tree and, for generations, the
  // state beside it), the store's files (registrations included) and the index's entries (as the
  // library lists them, what `ls` prints).
  const state = async () => ({
    tree: await snapshotDir(path.join(dir, 'root')),
    store: await storeSnapshot(store),
    entries: await openStore({ path: store }).list(),
  });
  // Run with --dry-run: the exit code, the preview, and proof that nothing changed.
  const dry = async (args: string[], code = 0): Promise<{ r: CliResult; preview: Preview }> => {
    const before = await state();
    const r = await cli([...args, '--prefix', prefix, '--layout', layout, '--dry-run', '--json']);
    t.is(r.code, code, describe(r));
    t.deepEqual(await state(), before, `${args.join(' ')} --dry-run changed something`);
    return { r, preview: jsonOut<Preview>(r) };
  };
  return { dir, cli, prefix, add, ok, dry };
}

const A1 = { 'bin/a': file('#!/bin/sh\necho a1\n', 0o755), 'share/a/data': 'a data 1\n' };
const A2 = { 'bin/a': file('#!/bin/sh\necho a2\n', 0o755), 'share/a/new': 'a new\n' };
const B1 = { 'bin/b': 'b\n', 'share/b/x': 'x\n', 'share/b/y': 'y\n' };

for (const layout of LAYOUTS) {
  test(`${layout}: a dry run on a new prefix creates nothing, and predicts the real run`, async (t) => {
    const { prefix, add, ok, dry } = await setup(t, layout);
    const a = await add('a', '1', A1);
    const { preview } = await dry(['activate', 'a']);
    t.like(preview, { generation: 1, previousGeneration: 0, noop: false, dryRun: true });
    t.deepEqual(preview.plan.added, [a]);
    t.like(preview.plan.files, { place: 2, replace: 0, remove: 0, mkdirs: 3 });
    t.deepEqual(preview.plan.conflicts, []);
    await t.throwsAsync(fsp.lstat(prefix), { code: 'ENOENT' });
    await ok(['activate', 'a']);
    t.is(await fsp.readFile(path.join(prefix, 'share/a/data'), 'utf8'), 'a data 1\n');
  });

  test(`${layout}: upgrade, deactivate, sync and rollback dry runs change nothing`, async (t) => {
    const { dir, cli, prefix, add, ok, dry } = await setup(t, layout);
    const a1 = await add('a', '1', A1);
    const a2 = await add('a', '2', A2);
    const b = await add('b', '1', B1);
    await ok(['activate', 'a@1', 'b']);

    const up = (await dry(['activate', 'a@2'])).preview;
    t.like(up, { generation: 2, previousGeneration: 1 });
    t.deepEqual(up.plan.upgraded, [{ name: 'a', from: a1, to: a2 }]);
    // bin/a differs, share/a/new is new, share/a/data goes
    t.like(up.plan.files, { place: 1, replace: 1, remove: 1 });

    const gone = (await dry(['deactivate', 'b'])).preview;
    t.deepEqual(gone.plan.removed, [b]);
    t.like(gone.plan.files, { place: 0, replace: 0, remove: 3 });

    const lockfile = path.join(dir, 'pstore.lock');
    t.is((await cli(['lock', '--prefix', prefix, '-o', lockfile])).code, 0);
    t.true((await dry(['sync', lockfile])).preview.noop);

    await ok(['activate', 'a@2']);
    const back = (await dry(['rollback'])).preview;
    t.like(back, { generation: 1, previousGeneration: 2 });
    t.deepEqual(back.plan.downgraded, [{ name: 'a', from: a2, to: a1 }]);
    const human = await cli(['rollback', '--prefix', prefix, '--dry-run']);
    t.is(human.code, 0, describe(human));
    t.regex(human.stdout, /^v a 2 -> 1$/m);
    t.regex(human.stdout, /files: 1 to place, 1 to replace, 1 to remove/);
    t.regex(human.stdout, /dry run: generation 1 \(now 2\); nothing changed$/m);
    const quiet = await cli(['rollback', '--prefix', prefix, '--dry-run', '-q']);
    t.is(quiet.stdout, '', describe(quiet));

    // The real rollback does what was predicted.
    await ok(['rollback']);
    t.is(await fsp.readFile(path.join(prefix, 'share/a/data'), 'utf8'), 'a data 1\n');
  });

  test(`${layout}: every conflict is listed, the exit is 3, nothing changes`, async (t) => {
    const { prefix, add, ok, dry } = await setup(t, layout);
    await add('a', '1', A1);
    await add('clash', '1', { 'bin/a': 'not a\n', 'share/clash/z': 'z\n' });
    await add('b', '1', B1);
    await ok(['activate', 'a']);
    // A file nobody owns where b would go: only an inplace prefix has one (a generations tree is new).
    if (layout === 'inplace') await fsp.mkdir(path.join(prefix, 'share/b'), { recursive: true });
    if (layout === 'inplace') await fsp.writeFile(path.join(prefix, 'share/b/x'), 'mine\n');
    const { r, preview } = await dry(['activate', 'clash', 'b'], 3);
    const subjects = preview.plan.conflicts.map((c) => c.subject);
    t.deepEqual(
      subjects,
      layout === 'inplace' ? ['bin/a', path.join(prefix, 'share/b/x')] : ['bin/a'],
    );
    t.deepEqual(preview.plan.conflicts[0]!.data?.owners, ['a', 'clash']);
    const err = JSON.parse(r.stderr) as { error: { code: string; subject: string } };
    t.like(err.error, { code: 'EPSTORE_CONFLICT', subject: 'bin/a' });
  });
}

test('a dry run refuses what the real run refuses, with its code: unknown ref, unmanaged prefix', async (t) => {
  const { dir, cli } = await setup(t, 'inplace');
  const missing = await cli(['activate', 'nope', '--prefix', path.join(dir, 'p'), '--dry-run']);
  t.is(missing.code, 6, describe(missing));
  const unmanaged = await cli(['deactivate', 'a', '--prefix', path.join(dir, 'p'), '--dry-run']);
  t.is(unmanaged.code, 6, describe(unmanaged));
  await t.throwsAsync(fsp.lstat(path.join(dir, 'p')), { code: 'ENOENT' });
});
