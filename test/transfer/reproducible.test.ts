// Reproducible prefixes: the same packages added to two unrelated stores (from different paths)
// give the same entry ids; a lockfile from the first reproduces the prefix from the second, and a
// bundle reproduces it in a third store: the three `pstore hash` digests are equal. The digest
// covers paths, types, exec bits, contents and symlink targets, and nothing else: an mtime or an
// unowned file does not change it, an exec bit, a byte, a symlink target or a missing file does.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { describe, jsonOut, storeCli, type CliResult } from '../_helpers/cli.js';
import { makeTemp, removeTree, tempDir } from '../_helpers/tmp.js';
import { buildTree, file, symlink, type TreeSpec } from '../_helpers/tree.js';
import { listTree } from '../_helpers/txn-trees.js';

/** Deterministic pseudo-random bytes (no Math.random: both stores must get the same content). */
function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

const SITE = 'usr/lib/python3/dist-packages';

/** Three packages: executables, relative and absolute symlinks, empty directories, marker units. */
function packages(): Array<{ name: string; version: string; spec: TreeSpec }> {
  return [
    {
      name: 'tool',
      version: '1.0',
      spec: {
        'usr/bin/tool': file('#!/bin/sh\nexec python3 -m tool "$@"\n', 0o755),
        'usr/bin/tool-alias': symlink('tool'),
        'usr/share/tool/empty': {},
        'usr/share/tool/data.txt': 'tool data\n',
        [`${SITE}/tool/__init__.py`]: 'VERSION = "1.0"\n',
        [`${SITE}/tool/_impl.py`]: file('# read-only source\n', 0o444),
        [`${SITE}/tool-1.0.dist-info/METADATA`]:
          'Metadata-Version: 2.1\nName: tool\nVersion: 1.0\n',
        [`${SITE}/tool-1.0.dist-info/RECORD`]: 'tool/__init__.py,,\ntool/_impl.py,,\n',
        [`${SITE}/tool-1.0.dist-info/top_level.txt`]: 'tool\n',
      },
    },
    {
      name: 'libfoo',
      version: '2.3.1-4',
      spec: {
        'usr/lib/libfoo.so.2.3.1': file(bytes(40_000, 7), 0o755),
        'usr/lib/libfoo.so.2': symlink('libfoo.so.2.3.1'),
        'usr/lib/libfoo.so': symlink('libfoo.so.2'),
        'usr/include/foo.h': '#define FOO 1\n',
        'usr/lib/pkgconfig/foo.pc': 'Name: foo\nVersion: 2.3.1\nLibs: -lfoo\n',
        'usr/share/doc/libfoo/copyright': symlink('/usr/share/common-licenses/MIT'),
        'usr/share/doc/libfoo/dangling': symlink('../nowhere/at/all'),
      },
    },
    {
      name: 'data',
      version: '0.1',
      spec: {
        'usr/share/data/blob.bin': bytes(300_000, 99),
        'usr/share/data/ünïcödé name.txt': 'utf-8 names\n',
        'usr/share/data/exec-twin': file('same bytes\n', 0o755),
        'usr/share/data/plain-twin': file('same bytes\n', 0o644),
        'var/cache/data': {},
        'var/lib/data/installed/data': 'installed\n',
      },
    },
  ];
}

interface World {
  dir: string;
  lockFile: string;
  prefixes: { a: string; b: string; c: string };
  stores: { a: string; b: string; c: string };
  ids: { a: string[]; b: string[] };
}

let world: World;

async function must(cli: ReturnType<typeof storeCli>, args: string[]): Promise<CliResult> {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`pstore ${args.join(' ')}: ${describe(r)}`);
  return r;
}

/** Build the fixture trees under `dir` and add them through the CLI; returns the entry ids. */
async function addAll(cli: ReturnType<typeof storeCli>, dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const p of packages()) {
    const src = await buildTree(path.join(dir, `src-${p.name}`), p.spec);
    out.push(
      jsonOut<{ id: string }>(
        await must(cli, ['add', src, '--name', p.name, '--version', p.version, '--json']),
      ).id,
    );
  }
  return out;
}

test.before(async () => {
  const dir = await makeTemp('reproducible');
  const stores = {
    a: path.join(dir, 'A', 'store'),
    b: path.join(dir, 'B', 'elsewhere', 'store'),
    c: path.join(dir, 'C', 'store'),
  };
  const prefixes = {
    a: path.join(dir, 'A', 'prefix'),
    b: path.join(dir, 'B', 'prefix'),
    c: path.join(dir, 'C', 'prefix'),
  };
  const A = storeCli(stores.a);
  const B = storeCli(stores.b);
  const C = storeCli(stores.c);
  const lockFile = path.join(dir, 'pstore.lock');

  // A: add, activate, lock
  const idsA = await addAll(A, path.join(dir, 'A', 'build'));
  await must(A, [
    'activate',
    ...packages().map((p) => `${p.name}@${p.version}`),
    '--prefix',
    prefixes.a,
  ]);
  await must(A, ['lock', '--prefix', prefixes.a, '-o', lockFile]);
  // B: the same adds, separately, from other paths; then sync the lockfile
  const idsB = await addAll(B, path.join(dir, 'B', 'somewhere', 'else'));
  await must(B, ['sync', lockFile, '--prefix', prefixes.b]);
  // C: a bundle exported from A, imported into a fresh store, synced (generations layout, copies)
  const bundle = path.join(dir, 'deps.pstore');
  await must(A, ['export', '--lock', lockFile, '-o', bundle]);
  await must(C, ['import', bundle]);
  await must(C, [
    'sync',
    lockFile,
    '--prefix',
    prefixes.c,
    '--layout',
    'generations',
    '--link',
    'copy',
  ]);
  world = { dir, lockFile, prefixes, stores, ids: { a: idsA, b: idsB } };
});

test.after.always(async () => {
  if (world) await removeTree(world.dir);
});

async function hashOf(t: ExecutionContext, store: string, prefix: string): Promise<string> {
  const r = await storeCli(store)(['hash', '--prefix', prefix, '--json']);
  t.is(r.code, 0, describe(r));
  return jsonOut<{ digest: string }>(r).digest;
}

test('two fresh stores, the same adds: the same ids; lock → sync and export → import → sync: the same hash', async (t) => {
  const { stores, prefixes } = world;
  t.deepEqual(world.ids.b, world.ids.a, 'the same content gives the same entry ids in both stores');
  const lock = JSON.parse(await fsp.readFile(world.lockFile, 'utf8')) as {
    packages: Record<string, { id: string }>;
  };
  t.deepEqual(
    Object.values(lock.packages)
      .map((p) => p.id)
      .sort(),
    [...world.ids.a].sort(),
  );

  const a = await hashOf(t, stores.a, prefixes.a);
  const b = await hashOf(t, stores.b, prefixes.b);
  const c = await hashOf(t, stores.c, prefixes.c);
  t.regex(a, /^sha512-[A-Za-z0-9+/]{86}==$/);
  t.is(b, a, 'store B synced from the lockfile');
  t.is(c, a, 'store C imported from the bundle (generations layout, copied files)');

  // and the trees really are the same, byte for byte, exec bit for exec bit
  const treeA = await listTree(prefixes.a);
  t.deepEqual(await listTree(prefixes.b), treeA);
  t.deepEqual(await listTree(prefixes.c), treeA);
  t.is(
    treeA['usr/share/data/exec-twin'],
    treeA['usr/share/data/plain-twin']!.replace(' - ', ' x '),
    'the exec twin differs only by its bit',
  );
  t.is(treeA['usr/share/tool/empty'], 'dir');

  // each lock gives the lockfile back
  for (const [s, p] of [
    [stores.b, prefixes.b],
    [stores.c, prefixes.c],
  ] as const) {
    const r = await storeCli(s)(['lock', '--prefix', p]);
    t.is(r.stdout, await fsp.readFile(world.lockFile, 'utf8'));
  }
});

/** A fresh prefix synced from the lockfile in store B, for a test to change. */
async function scratchPrefix(
  t: ExecutionContext,
): Promise<{ prefix: string; hash: () => Promise<string> }> {
  const prefix = path.join(await tempDir(t, 'mutate'), 'prefix');
  await must(storeCli(world.stores.b), ['sync', world.lockFile, '--prefix', prefix]);
  return { prefix, hash: () => hashOf(t, world.stores.b, prefix) };
}

/** Replace a prefix file by a new inode (never write through the hard link into the store). */
async function rewrite(p: string, data: Buffer, mode: number): Promise<void> {
  await fsp.rm(p);
  await fsp.writeFile(p, data, { mode });
  await fsp.chmod(p, mode);
}

test('mtimes and unowned files are not part of the hash', async (t) => {
  const { prefix, hash } = await scratchPrefix(t);
  const original = await hash();
  t.is(original, await hashOf(t, world.stores.a, world.prefixes.a));

  const f = path.join(prefix, 'usr/share/tool/data.txt');
  await fsp.utimes(f, new Date('2001-02-03T04:05:06Z'), new Date('2001-02-03T04:05:06Z'));
  await fsp.utimes(path.join(prefix, 'usr/share/tool'), new Date(0), new Date(0));
  await fsp.lutimes(path.join(prefix, 'usr/bin/tool-alias'), new Date(0), new Date(0));
  t.is(await hash(), original, 'changed mtimes (file, directory, symlink)');

  await fsp.writeFile(path.join(prefix, 'usr/share/tool/unowned.txt'), 'nobody owns me\n');
  await fsp.mkdir(path.join(prefix, 'opt/local'), { recursive: true });
  await fsp.writeFile(path.join(prefix, 'opt/local/notes'), 'mine\n');
  await fsp.mkdir(path.join(prefix, SITE, 'tool', '__pycache__'));
  await fsp.writeFile(
    path.join(prefix, SITE, 'tool', '__pycache__', '__init__.cpython-311.pyc'),
    'bytecode',
  );
  t.is(await hash(), original, 'unowned files and directories');

  // directory modes and other mode bits than "any x" are not hashed either
  await fsp.chmod(path.join(prefix, 'usr/share/tool/empty'), 0o700);
  t.is(await hash(), original, 'a directory mode');
});

test('an exec bit, a byte, a symlink target or a missing file changes the hash (and restoring it restores the hash)', async (t) => {
  const { prefix, hash } = await scratchPrefix(t);
  const original = await hash();
  const data = path.join(prefix, 'usr/share/tool/data.txt');
  const content = await fsp.readFile(data);

  await rewrite(data, content, 0o755);
  const execFlipped = await hash();
  t.not(execFlipped, original, 'exec bit set');
  await rewrite(data, content, 0o644);
  t.is(await hash(), original, 'exec bit cleared again');

  const flipped = Buffer.from(content);
  flipped[0]! ^= 0x01;
  await rewrite(data, flipped, 0o644);
  const byteFlipped = await hash();
  t.not(byteFlipped, original, 'one byte flipped');
  t.not(byteFlipped, execFlipped);
  await rewrite(data, content, 0o644);
  t.is(await hash(), original, 'byte restored');

  const blob = path.join(prefix, 'usr/share/data/blob.bin');
  const blobBytes = await fsp.readFile(blob);
  const lastFlipped = Buffer.from(blobBytes);
  lastFlipped[lastFlipped.length - 1]! ^= 0x80;
  await rewrite(blob, lastFlipped, 0o644);
  t.not(await hash(), original, 'the last byte of a large file');
  await rewrite(blob, blobBytes, 0o644);

  const link = path.join(prefix, 'usr/lib/libfoo.so');
  await fsp.rm(link);
  await fsp.symlink('libfoo.so.2.3.1', link);
  t.not(await hash(), original, 'a symlink target');
  await fsp.rm(link);
  await fsp.symlink('libfoo.so.2', link);
  t.is(await hash(), original, 'symlink restored');

  await fsp.rm(data);
  t.not(await hash(), original, 'an owned file missing');
  await fsp.writeFile(data, content, { mode: 0o644 });
  t.is(await hash(), original, 'file restored');

  await fsp.rmdir(path.join(prefix, 'usr/share/tool/empty'));
  await fsp.writeFile(path.join(prefix, 'usr/share/tool/empty'), '');
  t.not(await hash(), original, 'an owned empty directory replaced by a file');
});
