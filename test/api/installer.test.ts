// The library as an installer uses it (README "Using pstore from an installer"): open a store, add
// what a build staged (a directory, a tar stream, files in memory), activate into a prefix, group
// a deactivation and an activation into one commit, watch progress, read status and generations,
// lock and sync, export and import, and branch on typed errors — all in-process, no CLI.

import { execFile } from 'node:child_process';
import { createReadStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import test from 'ava';
import { create as tarCreate } from 'tar';
import {
  ERROR_MEANINGS,
  PstoreError,
  isPstoreError,
  openStore,
  validateLockfile,
  type Lockfile,
  type ProgressEvent,
  type TxnResult,
} from '../../lib/index.js';
import { entryNames, rejection } from '../_helpers/api.js';
import { REPO } from '../_helpers/cli.js';
import { tempDir } from '../_helpers/tmp.js';
import { buildTree, manyFiles } from '../_helpers/tree.js';
import { exists, listTree, stagePkg, unionOf } from '../_helpers/txn-trees.js';

const execFileP = promisify(execFile);

// The tests below run one at a time: an installer process normally has one store, and two stores
// adding the same content at the same moment in one process is its own test (the last one).

const names = entryNames;

test.serial(
  'an installer session: add (directory, tar stream, in memory), activate, one-commit swap, status, generations',
  async (t) => {
    const dir = await tempDir(t, 'installer');
    const store = openStore({ path: path.join(dir, 'store'), waitSeconds: 60 });
    t.is(store.root, path.join(dir, 'store'));

    // 1. a DESTDIR the build staged
    const pkg0 = await stagePkg(path.join(dir, 'build'), 'pkg0');
    const ingest: ProgressEvent[] = [];
    const e0 = await store.add(pkg0.dir, {
      name: 'pkg0',
      version: '1.0',
      onProgress: (e) => ingest.push(e),
    });
    t.regex(e0.id, /^[0-9a-f]{40}$/);
    t.is(e0.name, 'pkg0');
    t.true(e0.objectsWritten > 0);
    t.true(
      ingest.length >= 1 && ingest.every((e) => e.phase === 'ingest' && typeof e.done === 'number'),
      JSON.stringify(ingest),
    );

    // 2. a tar stream (and gzip): the same tree gives the same id as its directory
    const pkg1 = await stagePkg(path.join(dir, 'build'), 'pkg1');
    const tarFile = path.join(dir, 'pkg1.tar');
    const tgzFile = path.join(dir, 'pkg1.tgz');
    const entries = await fsp.readdir(pkg1.dir);
    await tarCreate({ cwd: pkg1.dir, file: tarFile, portable: true }, entries);
    await tarCreate({ cwd: pkg1.dir, file: tgzFile, portable: true, gzip: true }, entries);
    const e1 = await store.add(
      { tar: createReadStream(tarFile), label: 'pkg1.tar' },
      { name: 'pkg1', version: '1.0' },
    );
    const e1gz = await store.add(
      { tar: createReadStream(tgzFile) },
      { name: 'pkg1', version: '1.0' },
    );
    const e1dir = await store.add(pkg1.dir, { name: 'pkg1', version: '1.0' });
    t.is(e1gz.id, e1.id, 'gzip stream: same id');
    t.is(e1dir.id, e1.id, 'directory: same id');
    t.is(e1gz.objectsWritten, 0, 'nothing new to write the second time');

    // 3. files generated in memory
    const hello = await store.add(
      {
        files: [
          { path: 'usr/share/hello/hello.txt', data: 'hi\n' },
          { path: 'usr/bin/hello', data: '#!/bin/sh\necho hi\n', exec: true },
          { path: 'usr/bin/hi', type: 'symlink', target: 'hello' },
          { path: 'usr/share/hello/empty', type: 'dir' },
          { path: 'usr/share/hello/bytes.bin', data: new Uint8Array([0, 1, 2, 255]) },
        ],
      },
      { name: 'hello', version: '1.0' },
    );
    t.is(hello.files, 3);
    t.is(hello.symlinks, 1);
    const manifest = await store.manifest('hello@1.0');
    t.deepEqual(
      manifest.files.map((f) => `${f.path}:${f.type}`),
      [
        'usr:dir',
        'usr/bin:dir',
        'usr/bin/hello:file',
        'usr/bin/hi:symlink',
        'usr/share:dir',
        'usr/share/hello:dir',
        'usr/share/hello/bytes.bin:file',
        'usr/share/hello/empty:dir',
        'usr/share/hello/hello.txt:file',
      ],
    );
    t.deepEqual((await store.list()).map((e) => `${e.name}@${e.version}`).sort(), [
      'hello@1.0',
      'pkg0@1.0',
      'pkg1@1.0',
    ]);
    t.is((await store.resolve(e0.id.slice(0, 10))).name, 'pkg0', 'an id prefix resolves');

    // 4. activate into the shared prefix
    const prefixDir = path.join(dir, 'prefix');
    const prefix = store.prefix(prefixDir);
    t.is(prefix.dir, prefixDir);
    t.false(await exists(prefixDir), 'nothing happens until a method is called');
    const r1 = await prefix.activate(['pkg0@1.0', 'hello@1.0']);
    t.is(r1.generation, 1);
    t.is(r1.previousGeneration, 0);
    t.deepEqual(names(r1.activated), ['hello@1.0', 'pkg0@1.0']);
    t.false(r1.noop);
    t.true(['hardlink', 'reflink', 'copy'].includes(r1.link));
    const helloBin = await fsp.stat(path.join(prefixDir, 'usr/bin/hello'));
    t.true((helloBin.mode & 0o111) !== 0, 'the in-memory exec bit arrives');
    t.is(await fsp.readlink(path.join(prefixDir, 'usr/bin/hi')), 'hello');

    // 5. one commit: deactivate hello, activate pkg1 — one generation
    const r2: TxnResult = await prefix
      .transaction()
      .deactivate('hello')
      .activate('pkg1@1.0')
      .commit({ link: 'auto' });
    t.is(r2.generation, 2);
    t.is(r2.previousGeneration, 1);
    t.deepEqual(names(r2.activated), ['pkg1@1.0']);
    t.deepEqual(names(r2.deactivated), ['hello@1.0']);
    t.false(await exists(path.join(prefixDir, 'usr/bin/hello')), 'hello is gone');
    t.deepEqual(
      await listTree(prefixDir),
      await unionOf([pkg0, pkg1]),
      'the prefix is exactly pkg0 + pkg1',
    );

    // 6. state, read without waiting
    const status = await prefix.status();
    t.is(status.prefix, prefixDir);
    t.is(status.layout, 'inplace');
    t.is(status.store, store.root);
    t.is(status.generation, 2);
    t.false(status.transactionInProgress);
    t.deepEqual(names(status.packages), ['pkg0@1.0', 'pkg1@1.0']);
    t.deepEqual(status.packages.find((p) => p.name === 'pkg1')!.id, e1.id);
    const gens = await prefix.generations();
    t.deepEqual(
      gens.map((g) => [g.generation, g.current, names(g.packages).join(' ')]),
      [
        [1, false, 'hello@1.0 pkg0@1.0'],
        [2, true, 'pkg0@1.0 pkg1@1.0'],
      ],
    );
    t.true(gens.every((g) => !Number.isNaN(Date.parse(g.createdAt))));
    const v = await prefix.verify();
    t.true(v.ok, JSON.stringify(v));
    t.is(v.generation, 2);

    // a no-op is reported as such
    const again = await prefix.activate(['pkg1@1.0']);
    t.true(again.noop);
    t.is(again.generation, 2);
    // and rollback goes back to generation 1's set
    const back = await prefix.rollback();
    t.is(back.generation, 1);
    t.deepEqual(names((await prefix.status()).packages), ['hello@1.0', 'pkg0@1.0']);
  },
);

test.serial('onProgress receives link events while a larger package is activated', async (t) => {
  const dir = await tempDir(t, 'progress');
  const store = openStore({ path: path.join(dir, 'store') });
  const src = await buildTree(path.join(dir, 'big'), {
    usr: { share: { big: manyFiles(1300, { distinct: 50 }) } },
  });
  const ingest: ProgressEvent[] = [];
  await store.add(src, { name: 'big', version: '1.0', onProgress: (e) => ingest.push(e) });
  t.true(ingest.length >= 1, 'add reported progress');
  const events: ProgressEvent[] = [];
  const r = await store
    .prefix(path.join(dir, 'prefix'))
    .activate(['big@1.0'], { onProgress: (e) => events.push({ ...e }) });
  t.is(r.generation, 1);
  const link = events.filter((e) => e.phase === 'link');
  t.true(link.length >= 2, `link events: ${JSON.stringify(events)}`);
  t.true(
    link.every((e) => e.total === 1300 && e.done > 0 && e.done <= 1300),
    JSON.stringify(link),
  );
  t.true(
    link.every((e, i) => i === 0 || e.done > link[i - 1]!.done),
    'done only grows',
  );
});

test.serial(
  'lock() + syncLockfile(), export() + import() (a file and a stream): the same tree elsewhere',
  async (t) => {
    const dir = await tempDir(t, 'transfer');
    const store = openStore({ path: path.join(dir, 'store') });
    const staged = [
      await stagePkg(path.join(dir, 'build'), 'pkg0'),
      await stagePkg(path.join(dir, 'build'), 'pkg1', { version: '2.0' }),
    ];
    for (const p of staged) await store.add(p.dir, { name: p.name, version: p.version });
    const a = store.prefix(path.join(dir, 'a'));
    await a.activate(['pkg0@1.0', 'pkg1@2.0']);

    const lock: Lockfile = await a.lock();
    t.is(lock.lockfileVersion, 1);
    t.deepEqual(Object.keys(lock.packages), ['pkg0', 'pkg1']);
    t.is(lock.packages.pkg1!.version, '2.0');
    const hashA = await a.hash();
    t.is(hashA.generation, 1);
    t.false(hashA.transactionInProgress);

    // same store, another prefix
    const b = store.prefix(path.join(dir, 'b'));
    const rb = await b.syncLockfile(lock);
    t.is(rb.generation, 1);
    t.is((await b.hash()).digest, hashA.digest);
    t.true((await b.syncLockfile(lock)).noop, 'a second sync is a no-op');
    // a lockfile that went through JSON (what an installer reads back from disk)
    const reread = validateLockfile(JSON.parse(JSON.stringify(lock)), 'pstore.lock');
    t.deepEqual(reread, lock);

    // export, import into two other stores (from the file, from a stream)
    const bundle = path.join(dir, 'deps.pstore');
    const ex = await store.export(['pkg0@1.0', 'pkg1@2.0'], bundle);
    t.is(ex.file, bundle);
    t.is(ex.entries.length, 2);
    t.true(ex.objects > 0 && ex.bytes > 0);
    for (const [label, source] of [
      ['file', bundle],
      ['stream', createReadStream(bundle)],
    ] as const) {
      const other = openStore({ path: path.join(dir, `store-${label}`) });
      const im = await other.import(source);
      t.deepEqual(names(im.entries), ['pkg0@1.0', 'pkg1@2.0'], label);
      t.is(im.objectsPresent, 0, label);
      const p = other.prefix(path.join(dir, `prefix-${label}`));
      await p.syncLockfile(lock);
      t.is((await p.hash()).digest, hashA.digest, `${label}: the same digest`);
      t.true((await other.verify()).ok, `${label}: the store verifies`);
    }
  },
);

test.serial(
  'typed errors: conflict, not found, invalid, integrity, usage — code, subject, typed data',
  async (t) => {
    const dir = await tempDir(t, 'errors');
    const store = openStore({ path: path.join(dir, 'store') });
    await store.add(
      { files: [{ path: 'usr/bin/same', data: 'one\n', exec: true }] },
      { name: 'one', version: '1' },
    );
    await store.add(
      { files: [{ path: 'usr/bin/same', data: 'two\n', exec: true }] },
      { name: 'two', version: '1' },
    );
    await store.add(
      { files: [{ path: 'usr/share/three/file', data: '3\n' }] },
      { name: 'three', version: '1' },
    );
    const prefixDir = path.join(dir, 'prefix');
    const prefix = store.prefix(prefixDir);
    await prefix.activate(['one@1']);
    const before = await listTree(prefixDir);

    // two packages shipping one path
    const c1 = await rejection(prefix.activate(['two@1']));
    t.true(isPstoreError(c1, 'EPSTORE_CONFLICT'), String(c1));
    if (isPstoreError(c1, 'EPSTORE_CONFLICT')) {
      t.is(c1.subject, 'usr/bin/same');
      t.deepEqual(c1.data?.owners, ['one', 'two']);
      t.true(c1 instanceof PstoreError && c1 instanceof Error);
    }
    t.false(isPstoreError(c1, 'EPSTORE_BUSY'));
    t.deepEqual(await listTree(prefixDir), before, 'nothing changed');

    // a file nobody owns where a package wants to put one
    await fsp.mkdir(path.join(prefixDir, 'usr/share/three'), { recursive: true });
    await fsp.writeFile(path.join(prefixDir, 'usr/share/three/file'), 'mine\n');
    const c2 = await rejection(prefix.activate(['three@1']));
    t.true(isPstoreError(c2, 'EPSTORE_CONFLICT'), String(c2));
    if (isPstoreError(c2)) t.true(c2.subject?.endsWith('usr/share/three/file'), c2.subject);
    t.is(
      await fsp.readFile(path.join(prefixDir, 'usr/share/three/file'), 'utf8'),
      'mine\n',
      'the unowned file is untouched',
    );

    // not found: a ref, a name to deactivate, a lockfile entry (with every missing one in data)
    const n1 = await rejection(prefix.activate(['nosuch@1']));
    t.true(isPstoreError(n1, 'EPSTORE_NOT_FOUND'), String(n1));
    t.true(isPstoreError(await rejection(prefix.deactivate(['three'])), 'EPSTORE_NOT_FOUND'));
    const foreign = openStore({ path: path.join(dir, 'foreign') });
    const f1 = await foreign.add(
      { files: [{ path: 'a', data: 'a' }] },
      { name: 'fa', version: '1' },
    );
    const f2 = await foreign.add(
      { files: [{ path: 'b', data: 'b' }] },
      { name: 'fb', version: '1' },
    );
    const lock: Lockfile = {
      lockfileVersion: 1,
      packages: {
        fa: { version: '1', id: f1.id, integrity: f1.integrity },
        fb: { version: '1', id: f2.id, integrity: f2.integrity },
      },
    };
    const beforeSync = await listTree(prefixDir);
    const n2 = await rejection(prefix.syncLockfile(lock));
    t.true(isPstoreError(n2, 'EPSTORE_NOT_FOUND'), String(n2));
    if (isPstoreError(n2, 'EPSTORE_NOT_FOUND')) t.is(n2.data?.missing?.length, 2, n2.message);
    t.deepEqual(await listTree(prefixDir), beforeSync, 'nothing changed');

    // invalid lockfile
    const i1 = (() => {
      try {
        validateLockfile({ lockfileVersion: 2, packages: {} }, 'my.lock');
        return undefined;
      } catch (err) {
        return err;
      }
    })();
    t.true(isPstoreError(i1, 'EPSTORE_INVALID'), String(i1));
    if (isPstoreError(i1)) t.is(i1.subject, 'my.lock');

    // a damaged bundle stream
    const bundle = path.join(dir, 'b.pstore');
    await store.export(['one@1'], bundle);
    const bytes = await fsp.readFile(bundle);
    bytes[bytes.length - 600] = bytes[bytes.length - 600]! ^ 0x10;
    const target = openStore({ path: path.join(dir, 'target') });
    const d1 = await rejection(target.import(Readable.from([bytes])));
    t.true(isPstoreError(d1, 'EPSTORE_INTEGRITY'), String(d1));
    t.deepEqual(await target.list(), []);

    // usage
    const u1 = await rejection(prefix.prune({ keep: -1 }));
    t.true(isPstoreError(u1, 'EPSTORE_USAGE'), String(u1));
    const u2 = await rejection(store.add({ files: [] }, { name: 'has space', version: '1' }));
    t.true(isPstoreError(u2, 'EPSTORE_USAGE'), String(u2));
    // a refused option is named as the library's option; its message names no CLI flag
    for (const [err, option] of [
      [u1, 'keep'],
      [u2, 'name'],
    ] as const) {
      if (!isPstoreError(err, 'EPSTORE_USAGE')) continue;
      t.is(err.data?.option, option);
      t.notRegex(err.message, /--/);
    }

    // every code has its exit code, and toJSON is what --json prints
    for (const err of [c1, n1, i1, d1, u1]) {
      if (!isPstoreError(err)) continue;
      t.is(typeof ERROR_MEANINGS[err.code], 'string');
      t.false('exitCode' in err, "exit codes are the CLI's, not the library's");
      t.is((err.toJSON() as { code: string }).code, err.code);
    }
    // not a pstore error
    t.false(isPstoreError(new Error('x')));
    t.false(isPstoreError({ code: 'EPSTORE_CONFLICT' }));
  },
);

test('the public types compile (test/api/types-check.ts, strict, against lib/index.ts)', async (t) => {
  const dir = await tempDir(t, 'tsc');
  const tsconfig = path.join(dir, 'tsconfig.json');
  await fsp.writeFile(
    tsconfig,
    JSON.stringify({
      extends: path.join(REPO, 'tsconfig.json'),
      compilerOptions: { noEmit: true, rootDir: REPO, incremental: false },
      include: [],
      files: [path.join(REPO, 'test', 'api', 'types-check.ts')],
    }),
  );
  const tsc = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = await execFileP(process.execPath, [tsc, '-p', tsconfig], { cwd: REPO }).then(
    () => ({ code: 0, out: '' }),
    (err: { code?: number; stdout?: string; stderr?: string }) => ({
      code: err.code ?? 1,
      out: `${err.stdout ?? ''}${err.stderr ?? ''}`,
    }),
  );
  t.is(r.code, 0, r.out);
});

test.serial(
  'two stores in one process, the same content added at the same moment: both stores are complete',
  async (t) => {
    // An installer (or a test runner) may hold several stores; the in-process "one write per object"
    // sharing must not let one store's write stand in for another store's.
    const dir = await tempDir(t, 'two-stores');
    const a = openStore({ path: path.join(dir, 'a') });
    const b = openStore({ path: path.join(dir, 'b') });
    const files = [
      { path: 'usr/share/doc/x/copyright', data: 'the same bytes in both stores\n' },
      { path: 'usr/bin/x', data: '#!/bin/sh\necho x\n', exec: true },
    ];
    const [ra, rb] = await Promise.all([
      a.add({ files }, { name: 'x', version: '1' }),
      b.add({ files }, { name: 'x', version: '1' }),
    ]);
    t.is(ra.id, rb.id);
    const facts: Record<string, unknown> = {
      objectsWritten: { a: ra.objectsWritten, b: rb.objectsWritten },
    };
    for (const [label, s] of [
      ['a', a],
      ['b', b],
    ] as const) {
      const v = await s.verify();
      facts[`verify ${label}`] = v.ok ? 'ok' : v.problems;
      const err = await s
        .prefix(path.join(dir, `prefix-${label}`))
        .activate(['x@1'])
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      facts[`activate ${label}`] = err === undefined ? 'ok' : String(err);
    }
    t.deepEqual(facts, {
      objectsWritten: { a: 2, b: 2 },
      'verify a': 'ok',
      'verify b': 'ok',
      'activate a': 'ok',
      'activate b': 'ok',
    });
  },
);

test.serial(
  'a store directory removed and opened again at the same path in one process works (a fresh handle)',
  async (t) => {
    // An installer that wipes its cache directory and opens the store again, in the same process.
    const dir = await tempDir(t, 'reopen');
    const root = path.join(dir, 'store');
    await openStore({ path: root }).add(
      { files: [{ path: 'usr/share/one', data: 'one\n' }] },
      { name: 'one', version: '1' },
    );
    await fsp.rm(root, { recursive: true, force: true });
    const again = openStore({ path: root });
    const err = await again
      .add({ files: [{ path: 'usr/share/two', data: 'two\n' }] }, { name: 'two', version: '1' })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    t.is(err, undefined, `add into the re-created store: ${String(err)}`);
    if (err === undefined) t.true((await again.verify()).ok);
  },
);
