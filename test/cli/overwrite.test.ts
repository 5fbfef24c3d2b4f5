// `activate|sync --overwrite GLOB` (issue 10, as pacman's): a transaction may take over unowned
// files and symlinks matching a glob; owned paths still conflict; what was taken over is kept in
// the store and the generation record so `rollback` puts it back exactly (bytes, mode, symlink
// target), after a crash too, and gc keeps it while a generation names it.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { openStore } from '../../lib/index.js';
import { describe, jsonOut, storeCli, type CliResult } from '../_helpers/cli.js';
import { serialAdd } from '../_helpers/prefix-fixtures.js';
import { snapshotDir } from '../_helpers/snapshot.js';
import { buildTree, file, symlink } from '../_helpers/tree.js';
import { tempDir } from '../_helpers/tmp.js';

type Cli = ReturnType<typeof storeCli>;

interface Setup {
  dir: string;
  cli: Cli;
  prefix: string;
  at: string[];
}

/** A store with `tool` (bin/tool, bin/link, share/tool/doc), `rival` (bin/tool) and `base` (etc/base). */
async function setup(t: ExecutionContext, layout: 'inplace' | 'generations'): Promise<Setup> {
  const dir = await tempDir(t, `overwrite-${layout}`);
  const cli = storeCli(path.join(dir, 'store'));
  const trees = {
    tool: {
      'bin/tool': file('#!/bin/sh\necho tool\n', 0o755),
      'bin/link': symlink('tool'),
      'share/tool/doc': 'doc\n',
    },
    rival: { 'bin/tool': 'rival\n' },
    base: { 'etc/base': 'base\n' },
  };
  // setup through the library: the transactions with --overwrite are what this file spawns
  const store = openStore({ path: path.join(dir, 'store') });
  for (const [name, spec] of Object.entries(trees)) {
    const src = await buildTree(path.join(dir, 'src', name), spec);
    await serialAdd(() => store.add(src, { name, version: '1' }));
  }
  const prefix = path.join(dir, 'p');
  await store.prefix(prefix, { layout }).activate(['base']);
  return { dir, cli, prefix, at: ['--prefix', prefix, '--layout', layout] };
}

/** What a user had at the paths `tool` ships, before pstore was asked to take them over. */
async function plantUnowned(prefix: string): Promise<void> {
  await fsp.mkdir(path.join(prefix, 'bin'), { recursive: true });
  await fsp.writeFile(path.join(prefix, 'bin/tool'), "the user's own tool\n", { mode: 0o640 });
  await fsp.chmod(path.join(prefix, 'bin/tool'), 0o640);
  await fsp.symlink('/usr/bin/true', path.join(prefix, 'bin/link'));
}

const userFiles = async (prefix: string) =>
  snapshotDir(prefix, { exclude: ['.pstore'], dirs: false });

function errorOf(r: CliResult): Record<string, unknown> {
  return (JSON.parse(r.stderr) as { error: Record<string, unknown> }).error;
}

test('inplace: --overwrite takes over unowned files, --dry-run lists them, rollback restores them exactly', async (t) => {
  const { dir, cli, prefix, at } = await setup(t, 'inplace');
  await plantUnowned(prefix);
  const original = await userFiles(prefix);
  const state = async () => [
    await snapshotDir(prefix),
    await snapshotDir(path.join(dir, 'store/objects-v1')),
  ];

  const refused = await cli(['activate', 'tool', ...at, '--json']);
  t.is(refused.code, 3, describe(refused));
  t.like(errorOf(refused), { code: 'EPSTORE_CONFLICT' });

  // a glob that matches one of the two still refuses the other; `!` excludes (last match decides)
  const partly = await cli([
    'activate',
    'tool',
    ...at,
    '--overwrite',
    'bin/*',
    '--overwrite',
    '!bin/link',
  ]);
  t.is(partly.code, 3, describe(partly));
  t.regex(partly.stderr, /bin\/link exists and no package owns it/);

  const before = await state();
  const dry = await cli([
    'activate',
    'tool',
    ...at,
    '--overwrite',
    '/bin/*',
    '--dry-run',
    '--json',
  ]);
  t.is(dry.code, 0, describe(dry));
  t.deepEqual(jsonOut<{ plan: { overwrite: string[] } }>(dry).plan.overwrite, [
    'bin/link',
    'bin/tool',
  ]);
  const dryText = await cli(['activate', 'tool', ...at, '--overwrite', '*', '--dry-run']);
  t.regex(dryText.stdout, /overwrite: bin\/tool \(unowned; would be taken over\)/);
  t.deepEqual(await state(), before, 'a dry run changes nothing');

  const run = await cli(['activate', 'tool', ...at, '--overwrite', 'bin/*', '--json']);
  t.is(run.code, 0, describe(run));
  t.deepEqual(jsonOut<{ overwritten: string[] }>(run).overwritten, ['bin/link', 'bin/tool']);
  t.is(await fsp.readFile(path.join(prefix, 'bin/tool'), 'utf8'), '#!/bin/sh\necho tool\n');
  t.is(await fsp.readlink(path.join(prefix, 'bin/link')), 'tool');
  const verify = await cli(['verify', '--prefix', prefix]);
  t.is(verify.code, 0, describe(verify));

  // an owned path is never taken over, whatever the glob
  const owned = await cli(['activate', 'rival', ...at, '--overwrite', '*', '--json']);
  t.is(owned.code, 3, describe(owned));
  t.like(errorOf(owned), { code: 'EPSTORE_CONFLICT', subject: 'bin/tool' });

  const back = await cli(['rollback', '--prefix', prefix, '--json']);
  t.is(back.code, 0, describe(back));
  t.deepEqual(jsonOut<{ restored: string[] }>(back).restored, ['bin/link', 'bin/tool']);
  t.deepEqual(await userFiles(prefix), original, 'bytes, mode and symlink target as they were');
});

test('inplace: gc keeps what a generation took over; a later rollback past a deactivate restores it', async (t) => {
  const { cli, prefix, at } = await setup(t, 'inplace');
  await plantUnowned(prefix);
  const original = await userFiles(prefix);
  t.is((await cli(['activate', 'tool', ...at, '--overwrite', '**', '-q'])).code, 0);
  t.is((await cli(['deactivate', 'tool', '--prefix', prefix, '-q'])).code, 0);
  await t.throwsAsync(fsp.lstat(path.join(prefix, 'bin/tool')), { code: 'ENOENT' });
  const gc = await cli(['gc', '--older-than', '0', '--json']);
  t.is(gc.code, 0, describe(gc));
  // tool's entry stays (generation 2 names it); the saved user file is an object nothing else names
  const back = await cli(['rollback', '--prefix', prefix, '--to', '1', '--json']);
  t.is(back.code, 0, describe(back));
  t.deepEqual(await userFiles(prefix), original);
});

for (const point of ['txn:after-journal', 'apply:after-files', 'commit:after-generation']) {
  test(`inplace: killed at ${point}, recovery ends consistent and rollback still restores`, async (t) => {
    const { cli, prefix, at } = await setup(t, 'inplace');
    await plantUnowned(prefix);
    const original = await userFiles(prefix);
    const killed = await cli(['activate', 'tool', ...at, '--overwrite', 'bin/*'], {
      env: { PSTORE_TEST_CRASHPOINT: point },
    });
    t.is(killed.signal, 'SIGKILL', describe(killed));
    const status = await cli(['status', '--prefix', prefix, '--json']);
    t.is(status.code, 0, describe(status));
    t.is(jsonOut<{ generation: number }>(status).generation, 2, 'rolled forward');
    t.is(await fsp.readFile(path.join(prefix, 'bin/tool'), 'utf8'), '#!/bin/sh\necho tool\n');
    t.is((await cli(['verify', '--prefix', prefix])).code, 0);
    const back = await cli(['rollback', '--prefix', prefix]);
    t.is(back.code, 0, describe(back));
    t.deepEqual(await userFiles(prefix), original);
  });
}

test('inplace: killed during a rollback that restores, recovery finishes the restore', async (t) => {
  const { cli, prefix, at } = await setup(t, 'inplace');
  await plantUnowned(prefix);
  const original = await userFiles(prefix);
  t.is((await cli(['activate', 'tool', ...at, '--overwrite', 'bin/*', '-q'])).code, 0);
  const killed = await cli(['rollback', '--prefix', prefix], {
    env: { PSTORE_TEST_CRASHPOINT: 'apply:after-markers' },
  });
  t.is(killed.signal, 'SIGKILL', describe(killed));
  const status = await cli(['status', '--prefix', prefix, '--json']);
  t.is(jsonOut<{ generation: number }>(status).generation, 1, describe(status));
  t.deepEqual(await userFiles(prefix), original);
});

test('generations: nothing to take over (each tree is built whole); rollback switches back to the old tree', async (t) => {
  const { cli, prefix, at } = await setup(t, 'generations');
  await plantUnowned(prefix);
  const original = await userFiles(prefix);
  const run = await cli(['activate', 'tool', ...at, '--overwrite', '*', '--json']);
  t.is(run.code, 0, describe(run));
  t.is(jsonOut<{ overwritten?: string[] }>(run).overwritten, undefined);
  t.is(await fsp.readFile(path.join(prefix, 'bin/tool'), 'utf8'), '#!/bin/sh\necho tool\n');
  const back = await cli(['rollback', '--prefix', prefix]);
  t.is(back.code, 0, describe(back));
  t.deepEqual(await userFiles(prefix), original);
});

test('--overwrite with an empty glob is a usage error (exit 2) and changes nothing', async (t) => {
  const { dir, cli, prefix, at } = await setup(t, 'inplace');
  const state = async () => [
    await snapshotDir(prefix),
    await snapshotDir(path.join(dir, 'store'), { exclude: ['index-v1'] }),
  ];
  const before = await state();
  const r = await cli(['activate', 'tool', ...at, '--overwrite', '!', '--json']);
  t.is(r.code, 2, describe(r));
  t.like(errorOf(r), { code: 'EPSTORE_USAGE', subject: '!' });
  t.deepEqual(await state(), before);
});

test("inplace: what the prefix's first transaction took over comes back with rollback --to 0, after a deactivate too", async (t) => {
  const dir = await tempDir(t, 'overwrite-first');
  const cli = storeCli(path.join(dir, 'store'));
  const src = await buildTree(path.join(dir, 'src'), { 'bin/tool': 'tool\n' });
  t.is((await cli(['add', src, '--name', 'tool', '--version', '1', '-q'])).code, 0);
  const prefix = path.join(dir, 'p');
  await plantUnowned(prefix);
  const original = await userFiles(prefix);
  const at = ['--prefix', prefix];
  t.is((await cli(['activate', 'tool', ...at, '--overwrite', 'bin/tool', '-q'])).code, 0);
  // no generation before 1: the hint names --to 0
  const oldest = await cli(['rollback', ...at, '--json']);
  t.is(oldest.code, 6, describe(oldest));
  t.regex(String(errorOf(oldest).hint), /--to 0/);
  t.is((await cli(['deactivate', 'tool', ...at, '-q'])).code, 0);
  await t.throwsAsync(fsp.lstat(path.join(prefix, 'bin/tool')), { code: 'ENOENT' });
  const back = await cli(['rollback', ...at, '--to', '0', '--json']);
  t.is(back.code, 0, describe(back));
  t.like(jsonOut<{ generation: number; restored: string[] }>(back), {
    generation: 0,
    restored: ['bin/tool'],
  });
  t.deepEqual(await userFiles(prefix), original, 'bytes and mode as they were');
  t.is((await cli(['verify', ...at])).code, 0);
  // killed after its journal, a rollback to 0 is recovered (its journal is read back), and gc
  // reads that journal as roots meanwhile
  t.is((await cli(['activate', 'tool', ...at, '--overwrite', 'bin/tool', '-q'])).code, 0);
  const killed = await cli(['rollback', ...at, '--to', '0'], {
    env: { PSTORE_TEST_CRASHPOINT: 'txn:after-journal' },
  });
  t.is(killed.signal, 'SIGKILL', describe(killed));
  t.is((await cli(['gc', '--dry-run', '-q'])).code, 0);
  const status = await cli(['status', ...at, '--json']);
  t.is(status.code, 0, describe(status));
  t.is(jsonOut<{ generation: number }>(status).generation, 0, 'rolled forward to 0');
  t.deepEqual(await userFiles(prefix), original, 'the recovery put it back');
  // a generations prefix has no tree 0
  const gens = path.join(dir, 'g');
  t.is(
    (await cli(['activate', 'tool', '--prefix', gens, '--layout', 'generations', '-q'])).code,
    0,
  );
  const none = await cli(['rollback', '--prefix', gens, '--to', '0', '--json']);
  t.is(none.code, 6, describe(none));
});
