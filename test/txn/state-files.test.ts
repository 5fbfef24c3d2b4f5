// Every prefix state file is checked when read (issue 7, class 7): current.json, journal.json,
// generations/N.json and prefix.json of the wrong shape (`{}`, `[]`, `null`, a field of the wrong
// type, a record that names another generation) are EPSTORE_INTEGRITY (exit 4) naming the file,
// from readers and writers alike, and change nothing; a state directory that lost prefix.json is
// not a new prefix, and a failing activate never deletes its history. Pseudo filesystems are
// refused at once (exit 7) instead of spinning.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { PstoreError, openStore, type Prefix } from '../../lib/index.js';
import { describe, storeCli } from '../_helpers/cli.js';
import { snapshotDir, type Snapshot } from '../_helpers/snapshot.js';
import { tempDir } from '../_helpers/tmp.js';
import { jsonError, sharedTemplateStore } from '../_helpers/txn-trees.js';

const storeCopy = sharedTemplateStore('state-files', 3);

interface Fixture {
  cli: ReturnType<typeof storeCli>;
  prefix: string;
  /** the same prefix through the library */
  lib: Prefix;
  meta: string;
}

/** An inplace prefix at generation 2 (pkg0, then pkg0 + pkg1). */
async function twoGenerations(t: ExecutionContext): Promise<Fixture> {
  const { dir, store, cli } = await storeCopy(t);
  const prefix = path.join(dir, 'prefix');
  const f: Fixture = {
    cli,
    prefix,
    lib: openStore({ path: store }).prefix(prefix),
    meta: path.join(prefix, '.pstore'),
  };
  // setup through the library: the damaged-file commands below are what is spawned
  for (const name of ['pkg0', 'pkg1']) await f.lib.activate([name]);
  return f;
}

const snapshot = async (f: Fixture): Promise<Snapshot> => snapshotDir(f.prefix);

/** `args` exits 4 with EPSTORE_INTEGRITY naming `file`. */
async function assertDamaged(
  t: ExecutionContext,
  f: Fixture,
  args: string[],
  file: string,
): Promise<void> {
  const r = await f.cli([...args, '--prefix', f.prefix, '--json']);
  t.is(r.code, 4, `${args[0]}: ${describe(r)}`);
  const err = jsonError(r);
  t.is(err.code, 'EPSTORE_INTEGRITY', `${args[0]}: ${describe(r)}`);
  t.is(err.subject, file, `${args[0]} names the damaged file`);
}

/** Each reading or writing command as spawned (its arguments) and as the library call it makes. */
const READERS = {
  status: { args: ['status'], call: (p: Prefix) => p.status() },
  generations: { args: ['generations'], call: (p: Prefix) => p.generations() },
  verify: { args: ['verify'], call: (p: Prefix) => p.verify() },
  hash: { args: ['hash'], call: (p: Prefix) => p.hash() },
  lock: { args: ['lock'], call: (p: Prefix) => p.lock() },
  recover: { args: ['recover'], call: (p: Prefix) => p.recover() },
  activate: { args: ['activate', 'pkg2'], call: (p: Prefix) => p.activate(['pkg2']) },
  rollback: { args: ['rollback'], call: (p: Prefix) => p.rollback() },
  prune: { args: ['prune', '--keep', '0'], call: (p: Prefix) => p.prune({ keep: 0 }) },
} as const;
type Reader = keyof typeof READERS;

/** The library call behind `reader` refuses with EPSTORE_INTEGRITY (exit 4) naming `file`. */
async function assertDamagedInProcess(
  t: ExecutionContext,
  f: Fixture,
  reader: Reader,
  file: string,
): Promise<void> {
  const err = await READERS[reader].call(f.lib).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.true(err instanceof PstoreError, `${reader}: ${String(err)}`);
  t.like(err, { code: 'EPSTORE_INTEGRITY', subject: file }, `${reader} names the damaged file`);
}

// The two state files every command reads first: each written in shapes it must never accept,
// then every command that reads it must refuse (exit 4 naming it) and leave everything as it was.
const DAMAGED_STATE = [
  {
    file: 'current.json',
    texts: [
      '{}',
      '[]',
      'null',
      '""',
      '{"formatVersion":1,"generation":"2","highest":2}',
      '{"formatVersion":1,"generation":2,"highest":1}',
    ],
    title: (text: string, i: number) =>
      `current.json = ${text}: every command exits 4 naming it and nothing changes (#${i})`,
    readers: ['status', 'verify', 'hash', 'lock', 'activate', 'rollback', 'prune'] as Reader[],
    unchanged: 'the prefix and its state are untouched',
  },
  {
    file: 'journal.json',
    texts: [
      '{}',
      '[]',
      'null',
      '{"formatVersion":1,"txid":"../../x","kind":"activate","layout":"inplace","link":"auto","startedAt":"","from":{"generation":2,"packages":[]},"to":{"generation":3,"packages":[],"newGeneration":true}}',
    ],
    title: (text: string) =>
      `journal.json = ${text.slice(0, 40)}: exit 4 naming it (never a TypeError, never dropped)`,
    readers: ['status', 'generations', 'verify', 'hash', 'recover', 'activate'] as Reader[],
    unchanged: 'the journal is kept and nothing else changed',
  },
];

// Every command is spawned against the first damaged text of each file (the CLI's exit 4, JSON
// error and subject); the other texts go through the library call each command makes (the same
// refusal: code and subject; the exit code follows from the code by the CLI's one table).
for (const damaged of DAMAGED_STATE) {
  for (const [i, text] of damaged.texts.entries()) {
    test(damaged.title(text, i), async (t) => {
      const f = await twoGenerations(t);
      const file = path.join(f.meta, damaged.file);
      await fsp.writeFile(file, text);
      const before = await snapshot(f);
      for (const reader of damaged.readers) {
        if (i === 0) await assertDamaged(t, f, [...READERS[reader].args], file);
        else await assertDamagedInProcess(t, f, reader, file);
      }
      t.deepEqual(await snapshot(f), before, damaged.unchanged);
    });
  }
}

test('a generation record of the wrong shape or naming another number is exit 4 naming it', async (t) => {
  const f = await twoGenerations(t);
  const one = path.join(f.meta, 'generations', '1.json');
  const record = JSON.parse(await fsp.readFile(one, 'utf8')) as Record<string, unknown>;
  await fsp.writeFile(one, JSON.stringify({ ...record, generation: 7 }));
  await assertDamaged(t, f, ['generations'], one);
  await assertDamaged(t, f, ['rollback'], one);
  await fsp.writeFile(
    one,
    JSON.stringify({ ...record, packages: [{ name: 'x', version: '1', id: '../../../etc' }] }),
  );
  await assertDamaged(t, f, ['generations'], one);
  await fsp.writeFile(path.join(f.meta, 'generations', '2.json'), '[]');
  await assertDamaged(t, f, ['status'], path.join(f.meta, 'generations', '2.json'));
});

test('prefix.json missing: a failing activate keeps every record; commands exit 4 naming prefix.json', async (t) => {
  const f = await twoGenerations(t);
  const file = path.join(f.meta, 'prefix.json');
  const saved = await fsp.readFile(file);
  await fsp.rm(file);
  const before = await snapshot(f);
  await assertDamaged(t, f, ['activate', 'no-such-ref'], file);
  await assertDamaged(t, f, ['activate', 'pkg2'], file);
  await assertDamaged(t, f, ['status'], file);
  t.deepEqual(await snapshot(f), before, 'history kept, nothing created');
  await fsp.writeFile(file, saved);
  const s = await f.cli(['status', '--prefix', f.prefix, '--json']);
  t.is(s.code, 0, describe(s));
  const v = await f.cli(['verify', '--prefix', f.prefix]);
  t.is(v.code, 0, describe(v));
});

test('prefix.json of the wrong shape is exit 4 naming it', async (t) => {
  const f = await twoGenerations(t);
  const file = path.join(f.meta, 'prefix.json');
  await fsp.writeFile(file, '{"formatVersion":1,"layout":"sideways","store":"/x","createdAt":""}');
  await assertDamaged(t, f, ['status'], file);
  await assertDamaged(t, f, ['activate', 'pkg2'], file);
});

test('a failed first activation removes only what it created', async (t) => {
  const dir = await tempDir(t, 'state-files-new');
  const cli = storeCli(path.join(dir, 'store')); // its own store: the template is copied by other tests
  const prefix = path.join(dir, 'prefix');
  await fsp.mkdir(prefix);
  await fsp.writeFile(path.join(prefix, 'mine.txt'), 'user data\n');
  const r = await cli(['activate', 'no-such-ref', '--prefix', prefix, '--json']);
  t.is(r.code, 6, describe(r));
  t.deepEqual(
    await fsp.readdir(prefix),
    ['mine.txt'],
    'the state directory it made is gone, the user file stays',
  );
});

for (const dir of ['/proc/self/x', '/proc/self/fd/pstore-prefix', '/sys/kernel/pstore-x']) {
  test(`a prefix on a pseudo filesystem (${dir}) is refused at once with exit 7`, async (t) => {
    const cli = storeCli(path.join(await tempDir(t, 'pseudo'), 'store'));
    for (const args of [['activate', 'pkg0'], ['status'], ['verify']]) {
      // The old code spun for ever here: a child still running after 60 s is killed, and a killed
      // child has no exit code, so `code === 7` is the proof it answered (no wall-clock assertion,
      // which a loaded machine would make flaky).
      const r = await cli([...args, '--prefix', dir, '--wait', '1', '--json'], {
        timeoutMs: 60_000,
      });
      t.is(r.code, 7, `${args[0]}: ${describe(r)}`);
      t.is(jsonError(r).code, 'EPSTORE_UNSAFE_PATH');
    }
  });
}
