// Paths of the wrong kind given on the command line are the user's to fix, never exit 1 (a bug):
// a file as --prefix or --store, a symlink loop, -o into a missing directory or onto a directory,
// a bundle that is not a regular file or cannot be read. Each is a documented code naming the path
// (SPEC.md §Exit codes), with no stack trace, and changes nothing.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { describe, runCli, storeCli, type CliResult } from '../_helpers/cli.js';
import { otherUser, rootTest, worldReadable } from '../_helpers/environment.js';
import { snapshotDir } from '../_helpers/snapshot.js';
import { tempDir } from '../_helpers/tmp.js';
import { buildTree } from '../_helpers/tree.js';

/** The error the CLI printed with --json: its code and subject. */
function refusal(r: CliResult): { code: string; subject?: string } {
  return (JSON.parse(r.stderr) as { error: { code: string; subject?: string } }).error;
}

/** A store holding `p`, active in `prefix`, and a plain file beside them. */
async function fixture(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t, 'bad-paths');
  const store = path.join(dir, 'store');
  const cli = storeCli(store);
  const src = await buildTree(path.join(dir, 'src'), { 'share/p/f': 'p\n' });
  t.is((await cli(['add', src, '--name', 'p', '--version', '1', '-q'])).code, 0);
  const prefix = path.join(dir, 'prefix');
  t.is((await cli(['activate', 'p', '--prefix', prefix, '-q'])).code, 0);
  const afile = path.join(dir, 'afile');
  await fsp.writeFile(afile, 'not a directory\n');
  return { dir, store, cli, prefix, afile };
}

test('a file or a symlink loop as --prefix, a file as the store to add to: exit 7 naming it, nothing changed', async (t) => {
  const f = await fixture(t);
  const loop = path.join(f.dir, 'loop1');
  await fsp.symlink(path.join(f.dir, 'loop2'), loop);
  await fsp.symlink(loop, path.join(f.dir, 'loop2'));
  const dangling = path.join(f.dir, 'dangling');
  await fsp.symlink(path.join(f.dir, 'nowhere'), dangling);
  const before = await snapshotDir(f.dir);
  const runs = [
    ['status', '--prefix', f.afile],
    ['activate', 'p', '--prefix', f.afile],
    ['activate', 'p', '--prefix', f.afile, '--dry-run'],
    ['activate', 'p', '--prefix', path.join(f.afile, 'sub')],
    ['status', '--prefix', loop],
    ['activate', 'p', '--prefix', loop],
    ['activate', 'p', '--prefix', path.join(dangling, 'sub')],
    ['activate', 'p', '--prefix', path.join(dangling, 'sub'), '--dry-run'],
  ];
  for (const args of runs) {
    const r = await f.cli([...args, '--json']);
    t.is(r.code, 7, `${args.join(' ')}: ${describe(r)}`);
    t.like(refusal(r), { code: 'EPSTORE_INVALID' }, args.join(' '));
  }
  const add = ['add', path.join(f.dir, 'src'), '--name', 'q', '--version', '1', '--json'];
  for (const args of [add, ['activate', 'p', '--prefix', path.join(f.dir, 'new'), '--json']]) {
    const asStore = await runCli(['--store', f.afile, ...args]);
    t.is(asStore.code, 7, `--store FILE ${args[0]}: ${describe(asStore)}`);
    t.like(refusal(asStore), { code: 'EPSTORE_INVALID', subject: f.afile });
  }
  t.deepEqual(await snapshotDir(f.dir), before, 'nothing changed');
});

test('-o into a missing directory is exit 6 naming it, -o onto a directory exit 7; before any work', async (t) => {
  const f = await fixture(t);
  const missing = path.join(f.dir, 'no', 'such');
  const before = await snapshotDir(f.dir);
  for (const args of [
    ['export', 'p', '-o', path.join(missing, 'x.bundle')],
    ['lock', '--prefix', f.prefix, '-o', path.join(missing, 'pstore.lock')],
  ]) {
    const r = await f.cli([...args, '--json']);
    t.is(r.code, 6, `${args[0]}: ${describe(r)}`);
    t.like(refusal(r), { code: 'EPSTORE_NOT_FOUND', subject: missing });
  }
  for (const args of [
    ['export', 'p', '-o', f.dir],
    ['lock', '--prefix', f.prefix, '-o', f.dir],
  ]) {
    const r = await f.cli([...args, '--json']);
    t.is(r.code, 7, `${args[0]}: ${describe(r)}`);
    t.like(refusal(r), { code: 'EPSTORE_INVALID', subject: f.dir });
  }
  t.deepEqual(await snapshotDir(f.dir), before, 'nothing changed');
});

test('import of something that is not a regular file: exit 7, not "does not exist"', async (t) => {
  const f = await fixture(t);
  for (const src of ['/dev/null', f.dir]) {
    const r = await f.cli(['import', src, '--json']);
    t.is(r.code, 7, `${src}: ${describe(r)}`);
    t.like(refusal(r), { code: 'EPSTORE_INVALID', subject: src });
  }
});

rootTest(
  'import of a bundle this user may not read: exit 9 naming it, no stack trace',
  async (t) => {
    const f = await fixture(t);
    const bundle = path.join(f.dir, 'p.bundle');
    t.is((await f.cli(['export', 'p', '-o', bundle, '-q'])).code, 0);
    await worldReadable(f.dir);
    await fsp.chmod(bundle, 0o600);
    const user = await otherUser();
    const own = path.join(f.dir, 'own-store');
    await fsp.mkdir(own);
    await fsp.chown(own, user.uid, user.gid);
    const r = await runCli(['--store', own, 'import', bundle, '--json'], { user });
    t.is(r.code, 9, describe(r));
    t.like(refusal(r), { code: 'EPSTORE_PERMISSION', subject: bundle });
  },
);

test('a directory that holds no store (nor is empty) is none to read: exit 6, nothing made in it', async (t) => {
  const f = await fixture(t);
  for (const store of [path.join(f.dir, 'src'), f.afile]) {
    const before = await snapshotDir(f.dir);
    for (const args of [['ls'], ['verify'], ['du'], ['gc', '--dry-run']]) {
      const r = await runCli(['--store', store, ...args, '--json']);
      t.is(r.code, 6, `${store} ${args[0]}: ${describe(r)}`);
      t.like(refusal(r), { code: 'EPSTORE_NOT_FOUND', subject: store });
    }
    t.deepEqual(await snapshotDir(f.dir), before, `nothing made in ${store}`);
  }
});

rootTest(
  'sources this user may not read: exit 9 naming the path given, never /proc/self/fd',
  async (t) => {
    const f = await fixture(t);
    const user = await otherUser();
    const own = path.join(f.dir, 'own-store');
    await fsp.mkdir(own);
    await fsp.chown(own, user.uid, user.gid);
    const tree = await buildTree(path.join(f.dir, 'tree'), { 'a/f': 'a\n', 'b/secret/f': 's\n' });
    const tar = path.join(f.dir, 'p.tar');
    t.is((await f.cli(['export', 'p', '-o', path.join(f.dir, 'p.bundle'), '-q'])).code, 0);
    await fsp.copyFile(path.join(f.dir, 'p.bundle'), tar); // a tar, as far as add can tell
    const lock = path.join(f.dir, 'pstore.lock');
    t.is((await f.cli(['lock', '--prefix', f.prefix, '-o', lock])).code, 0);
    await worldReadable(f.dir);
    const secret = path.join(tree, 'b', 'secret');
    await fsp.chmod(secret, 0o700);
    await fsp.chmod(tar, 0o600);
    await fsp.chmod(lock, 0o600);
    const as = (args: string[]) => runCli(['--store', own, ...args, '--json'], { user });
    for (const [args, subject] of [
      [['add', tree, '--name', 't', '--version', '1'], secret],
      [['add', tar, '--name', 't', '--version', '1'], tar],
      [['sync', lock, '--prefix', path.join(f.dir, 'theirs')], lock],
    ] as const) {
      const r = await as([...args]);
      t.is(r.code, 9, `${args[0]}: ${describe(r)}`);
      t.like(refusal(r), { code: 'EPSTORE_PERMISSION', subject }, args[0]);
    }
  },
);

test('an empty directory is a store: a reader (which makes its lock file) leaves it one', async (t) => {
  const dir = await tempDir(t, 'empty-store');
  for (const args of [['verify'], ['gc', '--dry-run'], ['ls'], ['du']]) {
    const r = await runCli(['--store', dir, ...args, '--json']);
    t.is(r.code, 0, `${args.join(' ')}: ${describe(r)}`);
  }
});

test('an empty or cut-short bundle says so, not "should be zero tar padding"', async (t) => {
  const f = await fixture(t);
  const bundle = path.join(f.dir, 'p.bundle');
  t.is((await f.cli(['export', 'p', '-o', bundle, '-q'])).code, 0);
  const bytes = await fsp.readFile(bundle);
  for (const [name, cut, why] of [
    ['empty', 0, /: it is empty$/],
    ['cut', 1536, /: it ends at byte 1536, before its end \(cut short\)$/],
  ] as const) {
    const file = path.join(f.dir, `${name}.bundle`);
    await fsp.writeFile(file, bytes.subarray(0, cut));
    const r = await f.cli(['import', file, '--json']);
    t.is(r.code, 4, describe(r));
    t.regex((JSON.parse(r.stderr) as { error: { message: string } }).error.message, why);
  }
});
