// A tree goes in, and the manifest that comes out describes it exactly: every path, type, byte,
// exec bit and symlink target, empty directories included; the objects hold the bytes, read-only.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { openStore } from '../../lib/index.js';
import { describe, jsonOut, storeCli } from '../_helpers/cli.js';
import {
  addAndListPaths,
  manifestPathOf,
  objectFiles,
  objectPathOf,
  tmpFiles,
} from '../_helpers/store.js';
import {
  buildTree,
  byteOrder,
  describeTree,
  file,
  sha512Integrity,
  symlink,
  type Described,
} from '../_helpers/tree.js';
import { tempDir, tempStore } from '../_helpers/tmp.js';

const BIG = 8 * 1024 * 1024 + 12345; // above the 8 MiB streaming threshold

async function fixture(t: ExecutionContext): Promise<{ src: string; big: Buffer }> {
  const big = randomBytes(BIG);
  const src = await buildTree(path.join(await tempDir(t, 'src'), 'pkg'), {
    bin: {
      tool: file('#!/bin/sh\necho tool\n', 0o755),
      'su-helper': file('#!/bin/sh\necho setuid\n', 0o4755), // setuid: stored as a plain executable
      'owner-only': file('#!/bin/sh\n', 0o700),
    },
    usr: { share: { doc: { pkg: { README: 'read me\n', 'ünïcödé.txt': 'utf-8 name\n' } } } },
    share: { Zeta: 'upper case sorts first\n', alpha: 'lower case\n', 'big.bin': big },
    var: { empty: {}, lib: { 'also-empty': {} } },
    etc: {
      'empty.conf': '',
      localtime: symlink('/usr/share/zoneinfo/UTC'),
      'ro.conf': file('read-only source\n', 0o444),
    },
    lib: {
      'libfoo.so.1': file('\x7fELF fake\n', 0o755),
      'libfoo.so': symlink('libfoo.so.1'),
      dangling: symlink('does/not/exist'),
      up: symlink('../share/alpha'),
    },
  });
  return { src, big };
}

/** Every file of the manifest is backed by a read-only object holding exactly its bytes. */
async function assertObjects(
  t: ExecutionContext,
  store: string,
  files: readonly Described[],
): Promise<void> {
  for (const f of files) {
    if (f.type !== 'file') continue;
    const obj = objectPathOf(store, f);
    const st = await fsp.stat(obj);
    t.is(
      st.mode & 0o7777,
      f.exec ? 0o555 : 0o444,
      `${f.path}: object mode is exactly ${f.exec ? '0555' : '0444'} (read-only, no setuid)`,
    );
    t.is(st.size, f.size, `${f.path}: object size`);
    const bytes = await fsp.readFile(obj);
    t.is(
      sha512Integrity(bytes),
      f.integrity,
      `${f.path}: object bytes hash to the manifest's integrity`,
    );
  }
}

test('a directory tree round-trips through add and info --paths exactly', async (t) => {
  const { src, big } = await fixture(t);
  const store = await tempStore(t);
  const cli = storeCli(store);
  const expected = await describeTree(src);

  const add = await cli(['add', src, '--name', 'roundtrip', '--version', '1.0', '--json']);
  t.is(add.code, 0, describe(add));
  const summary = jsonOut<{ id: string } & Record<string, unknown>>(add);
  const files = expected.filter((f) => f.type === 'file');
  t.like(summary, {
    name: 'roundtrip',
    version: '1.0',
    files: files.length,
    bytes: files.reduce((n, f) => n + (f.type === 'file' ? f.size : 0), 0),
    dirs: expected.filter((f) => f.type === 'dir').length,
    symlinks: expected.filter((f) => f.type === 'symlink').length,
    objectsWritten: files.length, // all contents distinct
  });
  t.regex(summary.id, /^[0-9a-f]{40}$/);

  const info = await cli(['info', 'roundtrip@1.0', '--paths', '--json']);
  t.is(info.code, 0, describe(info));
  const paths = jsonOut<{ id: string; paths: Described[] }>(info);
  t.is(paths.id, summary.id);
  t.deepEqual(
    paths.paths,
    expected,
    'manifest = source tree (paths, types, sizes, hashes, exec bits, targets, empty dirs)',
  );
  t.deepEqual(
    paths.paths.map((p) => p.path),
    [...paths.paths.map((p) => p.path)].sort(byteOrder),
    'canonical order: UTF-8 bytes',
  );

  // spot checks, so a wrong describeTree cannot hide a wrong manifest
  const byPath = new Map(paths.paths.map((p) => [p.path, p]));
  t.like(byPath.get('bin/su-helper'), { type: 'file', exec: true });
  t.like(byPath.get('bin/owner-only'), { type: 'file', exec: true });
  t.like(byPath.get('etc/ro.conf'), { type: 'file', exec: false });
  t.like(byPath.get('etc/empty.conf'), { type: 'file', size: 0, exec: false });
  t.like(byPath.get('share/big.bin'), { type: 'file', size: BIG, integrity: sha512Integrity(big) });
  t.deepEqual(byPath.get('var/empty'), { path: 'var/empty', type: 'dir' });
  t.deepEqual(byPath.get('var/lib/also-empty'), { path: 'var/lib/also-empty', type: 'dir' });
  t.deepEqual(byPath.get('lib/dangling'), {
    path: 'lib/dangling',
    type: 'symlink',
    target: 'does/not/exist',
  });
  t.deepEqual(byPath.get('etc/localtime'), {
    path: 'etc/localtime',
    type: 'symlink',
    target: '/usr/share/zoneinfo/UTC',
  });
  t.deepEqual(byPath.get('lib/up'), { path: 'lib/up', type: 'symlink', target: '../share/alpha' });

  // the library sees the same manifest
  const lib = openStore({ path: store });
  const manifest = await lib.manifest('roundtrip@1.0');
  t.like(manifest, { formatVersion: 1, name: 'roundtrip', version: '1.0', markers: [] });
  t.deepEqual(manifest.files, expected);

  await assertObjects(t, store, expected);
  const objs = await objectFiles(store);
  t.is(objs.length, files.length, 'one object per distinct content');
  for (const o of objs) t.is(o.mode & 0o7222, 0, `${o.key}: no write bit, no setuid/setgid/sticky`);
  const manifestFile = manifestPathOf(store, summary.id);
  t.is((await fsp.stat(manifestFile)).mode & 0o222, 0, 'the manifest file is read-only');
  t.deepEqual(await tmpFiles(store), [], 'no temporary files left');
});

test('the same tree as a tar stream (GNU tar, >8 MiB member streamed) gives the same manifest and id', async (t) => {
  const { src } = await fixture(t);
  const dir = await tempDir(t, 'tar');
  const archive = path.join(dir, 'pkg.tar');
  execFileSync('tar', ['-C', src, '-cf', archive, '.']);
  const store = openStore({ path: await tempStore(t) });

  const fromTar = await store.add(
    { tar: createReadStream(archive), label: 'pkg.tar' },
    { name: 'roundtrip', version: '1.0' },
  );
  const expected = await describeTree(src);
  t.deepEqual((await store.manifest(fromTar.id)).files, expected);
  const fromDir = await store.add(src, { name: 'roundtrip', version: '1.0' });
  t.is(fromDir.id, fromTar.id);
  t.is(fromDir.objectsWritten, 0);
  await assertObjects(t, store.root, expected);
});

async function hardLinkTar(
  t: ExecutionContext,
  spec: Record<string, string | Buffer | ReturnType<typeof file>>,
  links: Array<[string, string]>,
): Promise<{ src: string; archive: string }> {
  const dir = await tempDir(t, 'hardlinks');
  const src = await buildTree(path.join(dir, 'src'), spec);
  for (const [target, link] of links) await fsp.link(path.join(src, target), path.join(src, link));
  const archive = path.join(dir, 'links.tar');
  execFileSync('tar', ['-C', src, '-cf', archive, '.']);
  const listing = execFileSync('tar', ['-tvf', archive], { encoding: 'utf8' });
  t.is(
    listing.split('\n').filter((l) => l.startsWith('h')).length,
    links.length,
    `GNU tar stored the hard links:\n${listing}`,
  );
  return { src, archive };
}

test('hard links in a tar become regular files with the linked bytes', async (t) => {
  const { src, archive } = await hardLinkTar(
    t,
    { small: 'small file\n', tool: file('#!/bin/sh\n', 0o755) },
    [
      ['small', 'small-link'],
      ['tool', 'tool-link'],
    ],
  );
  const store = await tempStore(t);
  t.deepEqual(await addAndListPaths(t, store, archive, 'links'), await describeTree(src));
  t.is((await objectFiles(store)).length, 2, 'a link and its target share one object');
});

// GNU tar writes a hard link for every file with several links; the linked-to member is a regular
// file earlier in the archive, here one above the streaming threshold.
test('a hard link to an earlier >8 MiB member of a tar is accepted', async (t) => {
  const big = randomBytes(BIG);
  const { src, archive } = await hardLinkTar(t, { 'big.bin': big }, [['big.bin', 'big-link.bin']]);
  const store = await tempStore(t);
  t.deepEqual(await addAndListPaths(t, store, archive, 'biglinks'), await describeTree(src));
  t.is((await objectFiles(store)).length, 1);
});

test('in-memory file lists round-trip through the library', async (t) => {
  const store = openStore({ path: await tempStore(t) });
  const r = await store.add(
    {
      files: [
        { path: 'bin/run', data: '#!/bin/sh\n', exec: true },
        { path: './share/data.bin', data: new Uint8Array([0, 1, 2, 255]) },
        { path: 'empty', type: 'dir' },
        { path: 'bin/alias', type: 'symlink', target: 'run' },
      ],
    },
    { name: 'mem', version: '1' },
  );
  t.is(r.files, 2);
  t.is(r.objectsWritten, 2);
  const m = await store.manifest('mem@1');
  t.deepEqual(m.files, [
    { path: 'bin', type: 'dir' },
    { path: 'bin/alias', type: 'symlink', target: 'run' },
    {
      path: 'bin/run',
      type: 'file',
      exec: true,
      size: 10,
      integrity: sha512Integrity(Buffer.from('#!/bin/sh\n')),
    },
    { path: 'empty', type: 'dir' },
    { path: 'share', type: 'dir' },
    {
      path: 'share/data.bin',
      type: 'file',
      exec: false,
      size: 4,
      integrity: sha512Integrity(new Uint8Array([0, 1, 2, 255])),
    },
  ]);
  await assertObjects(t, store.root, m.files);
});
