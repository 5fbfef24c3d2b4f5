// Names that cannot be placed are refused at `add` (issue 7, class 9): a member name over 255 bytes
// (NAME_MAX) or a path over 4095 bytes (PATH_MAX less its NUL) is EPSTORE_UNSAFE_PATH (exit 7)
// naming the member, and names that are not valid UTF-8 are refused rather than collapsed into one
// (node-tar and readdir decode them to U+FFFD). A name that fits the store but not under a long
// prefix path is refused by activation before any change, never ENAMETOOLONG (exit 1).

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { describe, jsonOut, storeCli, type CliResult } from '../_helpers/cli.js';
import { snapshotDir, storeSnapshot } from '../_helpers/snapshot.js';
import { assertCleanStore, lsJson } from '../_helpers/store.js';
import { buildTar, type Member } from '../_helpers/tar.js';
import { tempDir } from '../_helpers/tmp.js';
import { buildTree } from '../_helpers/tree.js';
import { exists, jsonError, listTree } from '../_helpers/txn-trees.js';

async function storeWithOneEntry(t: ExecutionContext) {
  const dir = await tempDir(t, 'names');
  const store = path.join(dir, 'store');
  const cli = storeCli(store);
  const r = await cli([
    'add',
    await buildTree(path.join(dir, 'base'), { 'share/base/README': 'base\n' }),
    '--name',
    'base',
    '--version',
    '1',
  ]);
  t.is(r.code, 0, describe(r));
  return { dir, store, cli };
}

function assertRefused(t: ExecutionContext, r: CliResult, member: string, why: RegExp): void {
  t.is(r.code, 7, describe(r));
  const e = jsonError(r);
  t.is(e.code, 'EPSTORE_UNSAFE_PATH');
  t.is(e.subject, member, 'the error names the member');
  t.regex(e.message, why);
  t.true(
    e.message.length < 400,
    `a short message, not the whole path: ${e.message.length} characters`,
  );
}

/** Add a tar made of `members` (the offending one first) and check the store did not change. */
async function addRefused(
  t: ExecutionContext,
  members: Member[],
  member: string,
  why: RegExp,
): Promise<void> {
  const { dir, store, cli } = await storeWithOneEntry(t);
  const before = await storeSnapshot(store);
  const tar = path.join(dir, 'x.tar');
  await fsp.writeFile(tar, buildTar(members));
  assertRefused(t, await cli(['add', tar, '--name', 'x', '--version', '1', '--json']), member, why);
  t.deepEqual(await storeSnapshot(store), before, 'the store is unchanged');
  await assertCleanStore(t, store);
}

const long = (name: string, m: Omit<Member, 'path' | 'rawPath'> = {}): Member => ({
  ...m,
  path: 'placeholder',
  rawPath: Buffer.from(name),
});

test('a member name of 256 bytes is refused at add (exit 7) naming the member; the store is unchanged', async (t) => {
  const member = `share/${'n'.repeat(256)}`;
  await addRefused(
    t,
    [long(member, { data: 'x\n' }), { path: 'share/ok', data: 'ok\n' }],
    member,
    /longer than 255 bytes/,
  );
});

test('a member path of 4096 bytes (every name ≤ 255) is refused at add (exit 7) naming the member', async (t) => {
  const member = [...Array.from({ length: 16 }, () => 'd'.repeat(250)), 'f'.repeat(80)].join('/');
  t.is(Buffer.byteLength(member), 4096);
  await addRefused(t, [long(member, { data: 'x\n' })], member, /longer than 4095 bytes/);
});

test('three member names that differ only in invalid UTF-8 bytes are refused (exit 7), not collapsed into one file', async (t) => {
  const names = [0xff, 0xfe, 0xfd].map((b) =>
    Buffer.concat([Buffer.from('share/bad-'), Buffer.from([b]), Buffer.from('.txt')]),
  );
  const members = names.map((n, i): Member => ({
    path: 'placeholder',
    rawPath: n,
    data: `member ${i}\n`,
  }));
  await addRefused(t, members, 'share/bad-\uFFFD.txt', /not valid UTF-8/);
});

test('a directory holding a file whose name is not valid UTF-8 is refused (exit 7) naming it, not an internal error', async (t) => {
  const { dir, store, cli } = await storeWithOneEntry(t);
  const src = await buildTree(path.join(dir, 'src'), { 'share/ok': 'ok\n' });
  await fsp.writeFile(
    Buffer.concat([Buffer.from(`${src}/share/bad-`), Buffer.from([0xff])]),
    'latin-1 name\n',
  );
  const before = await storeSnapshot(store);
  const r = await cli(['add', src, '--name', 'x', '--version', '1', '--json']);
  assertRefused(t, r, 'share/bad-\uFFFD', /not valid UTF-8/);
  t.deepEqual(
    (await lsJson(t, store)).map((e) => e.name),
    ['base'],
    'no entry was added',
  );
  const manifests = (snap: Record<string, string>) =>
    Object.keys(snap)
      .filter((k) => !k.startsWith('objects-v1/'))
      .sort();
  t.deepEqual(
    manifests(await storeSnapshot(store)),
    manifests(before),
    'no manifest was written (objects of other members wait for gc)',
  );
});

test('control: a 255-byte name and a 4095-byte path are accepted', async (t) => {
  const { dir, store, cli } = await storeWithOneEntry(t);
  const name = `share/${'n'.repeat(255)}`;
  const deep = [...Array.from({ length: 16 }, () => 'd'.repeat(250)), 'f'.repeat(79)].join('/');
  t.is(Buffer.byteLength(deep), 4095);
  const tar = path.join(dir, 'ok.tar');
  await fsp.writeFile(tar, buildTar([long(name, { data: 'a\n' }), long(deep, { data: 'b\n' })]));
  const r = await cli(['add', tar, '--name', 'ok', '--version', '1', '--json']);
  t.is(r.code, 0, describe(r));
  t.is(jsonOut<{ files: number }>(r).files, 2);
  await assertCleanStore(t, store);
});

test('a 250-byte name under a long prefix path: activation is refused (exit 7) before any change', async (t) => {
  const { dir, store, cli } = await storeWithOneEntry(t);
  // A prefix path of about 3900 bytes: the package path fits the store, not the prefix.
  let prefix = dir;
  while (Buffer.byteLength(prefix) < 3650) prefix = path.join(prefix, 'p'.repeat(200));
  prefix = path.join(prefix, 'q'.repeat(3900 - Buffer.byteLength(prefix) - 1));
  const name = `share/long/${'n'.repeat(250)}`;
  const src = path.join(dir, 'longsrc');
  await fsp.mkdir(path.join(src, 'share', 'long'), { recursive: true });
  await fsp.writeFile(path.join(src, name), 'long\n');
  t.is((await cli(['add', src, '--name', 'longname', '--version', '1'])).code, 0);
  const ok = await cli(['activate', 'base', '--prefix', prefix, '--json']);
  t.is(ok.code, 0, describe(ok));
  const before = {
    tree: await listTree(prefix),
    state: await snapshotDir(path.join(prefix, '.pstore')),
  };

  const r = await cli(['activate', 'longname', '--prefix', prefix, '--json']);
  t.is(r.code, 7, describe(r));
  const e = jsonError(r);
  t.is(e.code, 'EPSTORE_UNSAFE_PATH');
  t.is(e.subject, path.join(prefix, name), 'names the path that cannot be placed');
  t.true(e.message.length < 400, `a short message: ${e.message}`);
  t.deepEqual(
    { tree: await listTree(prefix), state: await snapshotDir(path.join(prefix, '.pstore')) },
    before,
    'the prefix is unchanged',
  );
  t.false(await exists(path.join(prefix, 'share', 'long')), 'not even a directory was made');

  const status = await cli(['status', '--prefix', prefix, '--json']);
  t.like(jsonOut<{ generation: number }>(status), { generation: 1 });
  const v = await cli(['verify', '--prefix', prefix, '--json']);
  t.is(v.code, 0, describe(v));
  await assertCleanStore(t, store);
});
