// `pstore lock` and `pstore sync LOCKFILE`: a lockfile is the stable, sorted description of a
// prefix's active set; `sync` makes a prefix exactly that set in one transaction, does nothing to a
// prefix that already matches, and refuses — touching nothing — a lockfile naming entries the store
// lacks (exit 6, every one of them listed) or a lockfile that is malformed (exit 7, naming the file).

import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { openStore, writeLockfile } from '../../lib/index.js';
import { describe, jsonOut, storeCli, type CliResult } from '../_helpers/cli.js';
import { snapshotDir } from '../_helpers/snapshot.js';
import { manifestPathOf } from '../_helpers/store.js';
import { makeTemp, removeTree, tempDir } from '../_helpers/tmp.js';
import {
  exists,
  jsonError,
  listTree,
  stagePkg,
  unionOf,
  type StagedPkg,
} from '../_helpers/txn-trees.js';
import type { PkgJson, TxnJson } from '../_helpers/json.js';

interface LockJson {
  lockfileVersion: number;
  packages: Record<string, { version: string; id: string; integrity: string }>;
}

let root: string;
let store: string;
let otherStore: string;
let cli: ReturnType<typeof storeCli>;
/** staged packages by NAME@VERSION, and their entry ids */
const staged = new Map<string, StagedPkg>();
const ids = new Map<string, string>();
/** entries of `otherStore` only: never in `store` */
const foreign = new Map<string, { id: string; integrity: string }>();

const REFS = ['pkg0@1.0', 'pkg0@2.0', 'pkg1@1.0', 'pkg2@1.0', 'pkg3@1.0'];

test.before(async () => {
  root = await makeTemp('lockfile');
  store = path.join(root, 'store');
  otherStore = path.join(root, 'other-store');
  cli = storeCli(store);
  const s = openStore({ path: store });
  for (const ref of REFS) {
    const [name, version] = ref.split('@') as [string, string];
    const p = await stagePkg(path.join(root, 'staged'), name, { version });
    staged.set(ref, p);
    ids.set(ref, (await s.add(p.dir, { name, version })).id);
  }
  const o = openStore({ path: otherStore });
  for (const name of ['pkgx', 'pkgy']) {
    const p = await stagePkg(path.join(root, 'foreign'), name);
    const r = await o.add(p.dir, { name, version: '1.0' });
    foreign.set(name, { id: r.id, integrity: r.integrity });
  }
});

test.after.always(async () => {
  await removeTree(root);
});

const ok = (t: ExecutionContext, r: CliResult, what: string): void => {
  t.is(r.code, 0, `${what}: ${describe(r)}`);
};

async function activate(t: ExecutionContext, prefix: string, ...refs: string[]): Promise<TxnJson> {
  const r = await cli(['activate', ...refs, '--prefix', prefix, '--json']);
  ok(t, r, `activate ${refs.join(' ')}`);
  return jsonOut<TxnJson>(r);
}

/** In a new temp dir: `refs` activated into `DIR/locked`, and `lock` of it written to `DIR/pstore.lock`. */
async function lockedPrefix(t: ExecutionContext, tag: string, refs: readonly string[]) {
  const dir = await tempDir(t, tag);
  const locked = path.join(dir, 'locked');
  // setup through the library (the syncs from it are under test; `lock` has tests of its own here)
  const p = openStore({ path: store }).prefix(locked);
  await p.activate([...refs]);
  const lockFile = path.join(dir, 'pstore.lock');
  await writeLockfile(lockFile, await p.lock());
  return { dir, locked, lockFile };
}

/** What the refused syncs start from: a temp dir holding a prefix with pkg1 1.0 active. */
async function refusingPrefix(t: ExecutionContext, tag: string) {
  const dir = await tempDir(t, tag);
  const prefix = path.join(dir, 'prefix');
  await openStore({ path: store }).prefix(prefix).activate(['pkg1@1.0']);
  return { dir, prefix };
}

/** `sync LOCKFILE` into DIR/fresh, which does not exist: exit `exit`, and it is not created. */
async function assertSyncCreatesNothing(
  t: ExecutionContext,
  dir: string,
  lockFile: string,
  exit: number,
  ...options: string[]
): Promise<CliResult> {
  const fresh = path.join(dir, 'fresh');
  const r = await cli(['sync', lockFile, '--prefix', fresh, ...options]);
  t.is(r.code, exit, describe(r));
  t.false(await exists(fresh), 'the prefix directory was not left behind');
  return r;
}

async function hashOf(t: ExecutionContext, prefix: string, c = cli): Promise<string> {
  const r = await c(['hash', '--prefix', prefix, '--json']);
  ok(t, r, `hash ${prefix}`);
  return jsonOut<{ digest: string }>(r).digest;
}

async function generationsOf(t: ExecutionContext, prefix: string): Promise<number[]> {
  const r = await cli(['generations', '--prefix', prefix, '--json']);
  ok(t, r, 'generations');
  return jsonOut<Array<{ generation: number }>>(r).map((g) => g.generation);
}

/** Everything in the prefix, its state directory included: types, modes, bytes and mtimes. */
async function fullState(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string): Promise<void> => {
    const abs = rel === '' ? dir : path.join(dir, rel);
    for (const name of (await fsp.readdir(abs)).sort()) {
      const r = rel === '' ? name : `${rel}/${name}`;
      const p = path.join(abs, name);
      const st = await fsp.lstat(p);
      const base = `${(st.mode & 0o7777).toString(8)} ino=${st.ino} mtime=${st.mtimeMs}`;
      if (st.isDirectory()) {
        out[`${r}/`] = `dir ${base}`;
        await walk(r);
      } else if (st.isSymbolicLink()) {
        out[r] = `symlink ${await fsp.readlink(p)} mtime=${st.mtimeMs}`;
      } else {
        out[r] = `file ${base} ${createHash('sha256')
          .update(await fsp.readFile(p))
          .digest('hex')}`;
      }
    }
  };
  await walk('');
  return out;
}

/** The exact lockfile text a correct `lock` prints for these refs, computed from the store's manifest files. */
async function expectedLock(refs: readonly string[]): Promise<string> {
  const packages: LockJson['packages'] = {};
  for (const ref of [...refs].sort()) {
    const [name, version] = ref.split('@') as [string, string];
    const id = ids.get(ref)!;
    const bytes = await fsp.readFile(manifestPathOf(store, id));
    packages[name] = {
      version,
      id,
      integrity: `sha512-${createHash('sha512').update(bytes).digest('base64')}`,
    };
  }
  return `${JSON.stringify({ lockfileVersion: 1, packages }, null, 2)}\n`;
}

test('lock prints stable, sorted JSON naming every active entry by version, id and integrity', async (t) => {
  const dir = await tempDir(t, 'lock');
  const prefix = path.join(dir, 'prefix');
  // activated in an unsorted order over two transactions
  await activate(t, prefix, 'pkg2@1.0', 'pkg0@1.0');
  await activate(t, prefix, 'pkg1@1.0');

  const first = await cli(['lock', '--prefix', prefix]);
  ok(t, first, 'lock');
  const second = await cli(['lock', '--prefix', prefix]);
  ok(t, second, 'lock again');
  t.is(second.stdout, first.stdout, 'two runs print the same bytes');

  t.is(
    first.stdout,
    await expectedLock(['pkg0@1.0', 'pkg1@1.0', 'pkg2@1.0']),
    'the lockfile: version 1, packages sorted by name, ids and manifest integrities',
  );
  const lock = JSON.parse(first.stdout) as LockJson;
  t.deepEqual(Object.keys(lock), ['lockfileVersion', 'packages']);
  t.deepEqual(Object.keys(lock.packages), ['pkg0', 'pkg1', 'pkg2']);
  for (const [name, p] of Object.entries(lock.packages)) {
    t.deepEqual(Object.keys(p), ['version', 'id', 'integrity'], `${name}: fields in a fixed order`);
    t.regex(p.id, /^[0-9a-f]{40}$/);
    t.true(
      Buffer.from(p.integrity.slice(7), 'base64').toString('hex').startsWith(p.id),
      `${name}: the id is the start of the integrity digest`,
    );
  }

  // a no-op transaction changes nothing the lockfile says
  const noop = await activate(t, prefix, 'pkg1@1.0');
  t.true(noop.noop);
  const third = await cli(['lock', '--prefix', prefix]);
  ok(t, third, 'lock after a no-op');
  t.is(third.stdout, first.stdout, 'byte-identical after a no-op transaction');

  // -o writes the same bytes to a file (--json reports it)
  const file = path.join(dir, 'pstore.lock');
  const written = await cli(['lock', '--prefix', prefix, '-o', file, '--json']);
  ok(t, written, 'lock -o');
  t.deepEqual(jsonOut(written), { file, packages: 3 });
  t.is(await fsp.readFile(file, 'utf8'), first.stdout, '-o FILE holds exactly what stdout showed');
  const quiet = await cli([
    'lock',
    '--prefix',
    prefix,
    '--output',
    path.join(dir, 'q.lock'),
    '--quiet',
  ]);
  ok(t, quiet, 'lock --output --quiet');
  t.is(quiet.stdout, '');
  t.is(await fsp.readFile(path.join(dir, 'q.lock'), 'utf8'), first.stdout);
});

test('sync of a lockfile into a fresh prefix (same store) reproduces the tree and the hash', async (t) => {
  const refs = ['pkg0@2.0', 'pkg1@1.0', 'pkg3@1.0'];
  const { dir, locked, lockFile } = await lockedPrefix(t, 'sync-fresh', refs);

  const b = path.join(dir, 'b');
  const r = await cli(['sync', lockFile, '--prefix', b, '--json']);
  ok(t, r, 'sync');
  const res = jsonOut<TxnJson>(r);
  t.is(res.generation, 1);
  t.false(res.noop);
  t.deepEqual(res.activated.map((p) => `${p.name}@${p.version}`).sort(), refs);
  t.is(await hashOf(t, b), await hashOf(t, locked), 'the same digest');
  t.deepEqual(await listTree(b), await listTree(locked), 'the same tree, byte for byte');
  t.deepEqual(await listTree(b), await unionOf(refs.map((ref) => staged.get(ref)!)));
  const relock = await cli(['lock', '--prefix', b]);
  t.is(
    relock.stdout,
    await fsp.readFile(lockFile, 'utf8'),
    'locking the synced prefix gives the lockfile back',
  );
});

test('sync activates, upgrades and deactivates in one transaction, then a warm sync touches nothing', async (t) => {
  const want = ['pkg0@2.0', 'pkg2@1.0', 'pkg3@1.0'];
  const { dir, locked, lockFile } = await lockedPrefix(t, 'sync-change', want);

  const prefix = path.join(dir, 'prefix');
  await activate(t, prefix, 'pkg0@1.0', 'pkg1@1.0', 'pkg3@1.0');
  t.deepEqual(await generationsOf(t, prefix), [1]);

  const r = await cli(['sync', lockFile, '--prefix', prefix, '--json']);
  ok(t, r, 'sync');
  const res = jsonOut<TxnJson>(r);
  t.false(res.noop);
  t.is(res.previousGeneration, 1);
  t.is(res.generation, 2);
  t.deepEqual(await generationsOf(t, prefix), [1, 2], 'exactly one new generation');
  const fmt = (xs: PkgJson[]) => xs.map((p) => `${p.name}@${p.version}`).sort();
  t.deepEqual(fmt(res.activated), ['pkg0@2.0', 'pkg2@1.0'], 'upgraded pkg0, activated pkg2');
  t.true(fmt(res.deactivated).includes('pkg1@1.0'), 'deactivated pkg1');
  t.false(
    [...fmt(res.activated), ...fmt(res.deactivated)].some((p) => p.startsWith('pkg3@')),
    'pkg3 is unchanged',
  );

  const status = jsonOut<{ generation: number; packages: PkgJson[] }>(
    await cli(['status', '--prefix', prefix, '--json']),
  );
  t.deepEqual(
    status.packages.map((p) => `${p.name}@${p.version}=${p.id}`).sort(),
    want.map((ref) => `${ref}=${ids.get(ref)}`),
  );
  t.deepEqual(
    await listTree(prefix),
    await unionOf([staged.get('pkg0@2.0')!, staged.get('pkg2@1.0')!, staged.get('pkg3@1.0')!]),
    'the tree is exactly the locked set: pkg1 gone, pkg0 at 2.0',
  );
  t.is(await hashOf(t, prefix), await hashOf(t, locked));

  // warm: nothing to do, nothing touched (not even current.json's mtime)
  const before = await fullState(prefix);
  const currentBefore = await fsp.stat(path.join(prefix, '.pstore', 'current.json'));
  const warm = await cli(['sync', lockFile, '--prefix', prefix, '--json']);
  ok(t, warm, 'warm sync');
  const w = jsonOut<TxnJson>(warm);
  t.true(w.noop, 'noop: true');
  t.is(w.generation, 2);
  t.deepEqual(w.activated, []);
  t.deepEqual(w.deactivated, []);
  t.deepEqual(await generationsOf(t, prefix), [1, 2], 'no new generation');
  const currentAfter = await fsp.stat(path.join(prefix, '.pstore', 'current.json'));
  t.is(currentAfter.mtimeMs, currentBefore.mtimeMs, 'current.json not rewritten');
  t.is(currentAfter.ino, currentBefore.ino, 'current.json not replaced');
  t.deepEqual(
    await fullState(prefix),
    before,
    'every path, mode, inode and mtime of the prefix is as it was',
  );
});

/** A lockfile text naming these packages (sorted), as `lock` would write it. */
function lockText(
  pkgs: Record<string, { version: string; id: string; integrity: string }>,
): string {
  const sorted = Object.fromEntries(Object.entries(pkgs).sort(([a], [b]) => (a < b ? -1 : 1)));
  return `${JSON.stringify({ lockfileVersion: 1, packages: sorted }, null, 2)}\n`;
}

async function lockedOf(ref: string): Promise<{ version: string; id: string; integrity: string }> {
  const id = ids.get(ref)!;
  const bytes = await fsp.readFile(manifestPathOf(store, id));
  return {
    version: ref.split('@')[1]!,
    id,
    integrity: `sha512-${createHash('sha512').update(bytes).digest('base64')}`,
  };
}

test('entries missing from the store: exit 6 listing every one, the prefix untouched', async (t) => {
  const { dir, prefix } = await refusingPrefix(t, 'sync-missing');
  const lockFile = path.join(dir, 'pstore.lock');
  await fsp.writeFile(
    lockFile,
    lockText({
      pkg0: await lockedOf('pkg0@2.0'), // present
      pkgx: { version: '1.0', ...foreign.get('pkgx')! },
      pkgy: { version: '1.0', ...foreign.get('pkgy')! },
    }),
  );

  const before = await snapshotDir(prefix);
  const gensBefore = await generationsOf(t, prefix);
  const r = await cli(['sync', lockFile, '--prefix', prefix, '--json']);
  t.is(r.code, 6, describe(r));
  const err = jsonError(r);
  t.is(err.code, 'EPSTORE_NOT_FOUND');
  for (const name of ['pkgx', 'pkgy']) {
    t.true(err.message.includes(`${name}@1.0`), `the message names ${name}: ${err.message}`);
    t.true(
      err.message.includes(foreign.get(name)!.id),
      `the message gives ${name}'s id: ${err.message}`,
    );
  }
  t.false(err.message.includes('pkg0'), 'the entry that is present is not listed');
  t.deepEqual((err.data?.missing as unknown[] | undefined)?.length, 2, 'data.missing lists both');
  t.deepEqual(
    await snapshotDir(prefix),
    before,
    'the prefix (state directory included) is untouched',
  );
  t.deepEqual(await generationsOf(t, prefix), gensBefore);

  // without --json: the human message lists both as well
  const plain = await cli(['sync', lockFile, '--prefix', prefix]);
  t.is(plain.code, 6, describe(plain));
  t.regex(plain.stderr, /EPSTORE_NOT_FOUND/);
  t.true(
    plain.stderr.includes(foreign.get('pkgx')!.id) &&
      plain.stderr.includes(foreign.get('pkgy')!.id),
    plain.stderr,
  );

  // into a prefix directory that does not exist yet: it is not created, nor registered in the store
  const registrations = async () =>
    fsp.readdir(path.join(store, 'prefixes-v1')).then(
      (xs) => xs.filter((x) => !x.startsWith('.')).sort(),
      () => [],
    );
  const regsBefore = await registrations();
  const r2 = await assertSyncCreatesNothing(t, dir, lockFile, 6, '--json');
  t.is(jsonError(r2).code, 'EPSTORE_NOT_FOUND');
  t.deepEqual(
    (await fsp.readdir(dir)).sort(),
    ['prefix', 'pstore.lock'],
    'nothing else appeared beside it',
  );
  t.deepEqual(await registrations(), regsBefore, 'no prefix registration left in the store');
});

test('a lockfile path that does not exist: exit 6, the prefix untouched', async (t) => {
  const { dir, prefix } = await refusingPrefix(t, 'sync-nofile');
  const before = await snapshotDir(prefix);
  const missing = path.join(dir, 'no-such.lock');
  const r = await cli(['sync', missing, '--prefix', prefix, '--json']);
  t.is(r.code, 6, describe(r));
  const err = jsonError(r);
  t.is(err.code, 'EPSTORE_NOT_FOUND');
  t.true(
    err.message.includes(missing) || err.subject === missing,
    `names the lockfile: ${JSON.stringify(err)}`,
  );
  t.deepEqual(await snapshotDir(prefix), before);
  await assertSyncCreatesNothing(t, dir, missing, 6);
});

test('malformed lockfiles: exit 7 (EPSTORE_INVALID) naming the file, the prefix untouched', async (t) => {
  const { dir, prefix } = await refusingPrefix(t, 'sync-invalid');
  const good = await lockedOf('pkg0@1.0');
  const valid = { lockfileVersion: 1, packages: { pkg0: good } };
  const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
  const otherIntegrity = (await lockedOf('pkg2@1.0')).integrity;
  const cases: Array<[string, string | null]> = [
    ['not JSON', '{"lockfileVersion": 1, "packages": {'],
    ['an empty file', ''],
    ['JSON, but an array', json([valid])],
    ['JSON, but null', 'null\n'],
    ['lockfileVersion 2', json({ ...valid, lockfileVersion: 2 })],
    ['lockfileVersion as a string', json({ ...valid, lockfileVersion: '1' })],
    ['no lockfileVersion', json({ packages: valid.packages })],
    ['no packages', json({ lockfileVersion: 1 })],
    ['packages is an array', json({ lockfileVersion: 1, packages: [{ name: 'pkg0', ...good }] })],
    ['packages is a string', json({ lockfileVersion: 1, packages: 'pkg0' })],
    ['a package that is not an object', json({ lockfileVersion: 1, packages: { pkg0: '1.0' } })],
    [
      'a package without integrity',
      json({ lockfileVersion: 1, packages: { pkg0: { version: good.version, id: good.id } } }),
    ],
    [
      'a package without version',
      json({ lockfileVersion: 1, packages: { pkg0: { id: good.id, integrity: good.integrity } } }),
    ],
    [
      'integrity with another algorithm',
      json({
        lockfileVersion: 1,
        packages: {
          pkg0: {
            ...good,
            integrity: `sha256-${createHash('sha256').update('x').digest('base64')}`,
          },
        },
      }),
    ],
    [
      'integrity too short',
      json({
        lockfileVersion: 1,
        packages: { pkg0: { ...good, integrity: good.integrity.slice(0, 40) } },
      }),
    ],
    [
      'integrity that is not base64',
      json({
        lockfileVersion: 1,
        packages: { pkg0: { ...good, integrity: `sha512-${'!'.repeat(86)}==` } },
      }),
    ],
    [
      'an id that does not match the integrity',
      json({ lockfileVersion: 1, packages: { pkg0: { ...good, integrity: otherIntegrity } } }),
    ],
    [
      'an id that is not hex',
      json({ lockfileVersion: 1, packages: { pkg0: { ...good, id: 'zz'.repeat(20) } } }),
    ],
    ['a directory', null],
  ];
  const before = await snapshotDir(prefix);
  for (const [what, text] of cases) {
    const file = path.join(dir, `${what.replace(/\W+/g, '-')}.lock`);
    if (text === null) await fsp.mkdir(file);
    else await fsp.writeFile(file, text);
    const r = await cli(['sync', file, '--prefix', prefix, '--json']);
    t.is(r.code, 7, `${what}: ${describe(r)}`);
    if (r.code !== 7) continue;
    const err = jsonError(r);
    t.is(err.code, 'EPSTORE_INVALID', `${what}: ${err.message}`);
    t.true(err.message.includes(file), `${what}: the message names the lockfile: ${err.message}`);
    t.is(err.subject, file, `${what}: subject is the lockfile`);
    t.deepEqual(await snapshotDir(prefix), before, `${what}: the prefix is untouched`);
  }
  // a malformed lockfile into a prefix that does not exist: not created
  await assertSyncCreatesNothing(t, dir, path.join(dir, 'not-JSON.lock'), 7);
});

test('a lockfile whose name or version disagrees with the entry it pins: exit 7, the prefix untouched', async (t) => {
  const { dir, prefix } = await refusingPrefix(t, 'sync-mismatch');
  const before = await snapshotDir(prefix);
  const good = await lockedOf('pkg0@1.0');
  const cases: Array<[string, Record<string, { version: string; id: string; integrity: string }>]> =
    [
      ['renamed', { renamed: good }],
      ['another version', { pkg0: { ...good, version: '9.9' } }],
    ];
  for (const [what, packages] of cases) {
    const file = path.join(dir, `${what.replace(/\W+/g, '-')}.lock`);
    await fsp.writeFile(file, lockText(packages));
    const r = await cli(['sync', file, '--prefix', prefix, '--json']);
    t.is(r.code, 7, `${what}: ${describe(r)}`);
    if (r.code === 7) t.is(jsonError(r).code, 'EPSTORE_INVALID', what);
    t.deepEqual(await snapshotDir(prefix), before, `${what}: the prefix is untouched`);
  }
});

test('lock sorts package names as strings, also names that look like numbers', async (t) => {
  // JSON objects keep their key order in the file, but a JavaScript object puts integer-like keys
  // first, in numeric order: "9" before "10" and both before "a" unless the writer takes care.
  const dir = await tempDir(t, 'lock-numeric');
  const s = openStore({ path: store });
  for (const name of ['a', '10', '9', 'B'])
    await s.add(
      { files: [{ path: `usr/share/numeric/${name}`, data: `${name}\n` }] },
      { name, version: '1' },
    );
  const prefix = path.join(dir, 'prefix');
  await activate(t, prefix, 'a@1', '10@1', '9@1', 'B@1');
  const r = await cli(['lock', '--prefix', prefix]);
  ok(t, r, 'lock');
  const order = [...r.stdout.matchAll(/^ {4}"([^"]+)": \{$/gm)].map((m) => m[1]);
  t.deepEqual(order, ['10', '9', 'B', 'a'], 'names in the file in string (UTF-8 byte) order');
});
