// activate / deactivate into an inplace prefix, checked against the fixture packages' own
// description (not pstore's manifests): the tree a prefix holds is exactly the union of what its
// packages ship, byte for byte, exec bit for exec bit, symlink for symlink; an upgrade is one
// transaction that adds, replaces and removes; Python never imports stale bytecode afterwards.

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import test, { type ExecutionContext } from 'ava';
import { openStore } from '../../lib/index.js';
import { describe, jsonOut, storeCli } from '../_helpers/cli.js';
import {
  CAST_PACKAGES,
  SITE,
  addWithStore,
  assertHolds,
  castPackage,
  castStore,
  expectedListing,
  expectedTree,
  listing,
  prefixListing,
  pstoreLeftovers,
  readTree,
  stagePackage,
  type Added,
  type CastStore,
  type PyPackage,
} from '../_helpers/prefix-fixtures.js';
import { compileAll, importedVersion, pycOf } from '../_helpers/pyprefix.js';
import { objectPathOf } from '../_helpers/store.js';
import { removeTree, tempDir } from '../_helpers/tmp.js';
import { exists } from '../_helpers/txn-trees.js';
import type { GenJson, PkgJson, TxnJson } from '../_helpers/json.js';

const execFileP = promisify(execFile);

let cast: CastStore;
let store: string;
const A = (ref: string): Added => cast.get(ref);
const asJson = (a: Added): PkgJson => ({ name: a.pkg.name, version: a.pkg.version, id: a.id });
const byName = (xs: PkgJson[]) => [...xs].sort((a, b) => (a.name < b.name ? -1 : 1));

/** Same mtime on the store objects of every .py file of these packages (they are hard-linked). */
const FIXED_MTIME = new Date('2024-01-02T03:04:05Z');
async function pinMtimes(pkgs: readonly PyPackage[]): Promise<void> {
  for (const p of pkgs) {
    for (const rel of p.modules) {
      const node = p.tree.get(rel)!;
      if (node.type !== 'file') continue;
      const integrity = `sha512-${createHash('sha512').update(node.data).digest('base64')}`;
      await fsp.utimes(
        objectPathOf(store, { integrity, exec: node.exec }),
        FIXED_MTIME,
        FIXED_MTIME,
      );
    }
  }
}

test.before(async () => {
  cast = await castStore('activate-store', [...CAST_PACKAGES]);
  store = cast.store;
  // alpha 1.0 and 2.0: __init__.py, sub/impl.py, sub/__init__.py and nsroot/alpha_ext/__init__.py
  // have the same size in both; with the same mtime too, a v1 .pyc would pass for v2's source.
  await pinMtimes([A('alpha@1.0').pkg, A('alpha@2.0').pkg]);
});

test.after.always(async () => {
  await removeTree(cast.root);
});

async function assertTreeIs(
  t: ExecutionContext,
  prefix: string,
  pkgs: readonly PyPackage[],
  what: string,
): Promise<void> {
  const have = listing(await readTree(prefix, { exclude: ['.pstore'] }));
  t.deepEqual(have, expectedListing(pkgs), what);
}

async function generationsOf(t: ExecutionContext, prefix: string): Promise<GenJson[]> {
  const r = await storeCli(store)(['generations', '--prefix', prefix, '--json']);
  t.is(r.code, 0, describe(r));
  return jsonOut<GenJson[]>(r);
}

/** alpha and beta in their first versions: where the upgrade and deactivation tests start. */
const V1_SET = ['alpha@1.0', 'beta@1.0'];
/** The same, hard-linked: the bytecode tests need the prefix files to carry the pinned mtimes. */
const V1_HARDLINKED = [...V1_SET, '--link', 'hardlink'];

/** A new prefix made by `activate ARGS` (refs, options): the CLI, the prefix, its site dir. */
async function activatedPrefix(t: ExecutionContext, tag: string, args: readonly string[]) {
  const cli = storeCli(store);
  const prefix = path.join(await tempDir(t, tag), 'prefix');
  const r = await cli(['activate', ...args, '--prefix', prefix, '--json']);
  t.is(r.code, 0, describe(r));
  return { cli, prefix, site: path.join(prefix, SITE) };
}

async function verifyOk(t: ExecutionContext, prefix: string, what: string): Promise<void> {
  const v = await storeCli(store)(['verify', '--prefix', prefix, '--json']);
  t.is(v.code, 0, `${what}: ${describe(v)}`);
}

test('activate into a new prefix creates it, and the tree is exactly the union of the packages', async (t) => {
  const cli = storeCli(store);
  const work = await tempDir(t, 'act');
  const prefix = path.join(work, 'not', 'yet', 'prefix');
  const r = await cli([
    'activate',
    'alpha@1.0',
    'beta@1.0',
    'gamma@1.0',
    '--prefix',
    prefix,
    '--json',
  ]);
  t.is(r.code, 0, describe(r));
  const j = jsonOut<TxnJson>(r);
  t.like(j, {
    prefix,
    layout: 'inplace',
    generation: 1,
    previousGeneration: 0,
    deactivated: [],
    noop: false,
  });
  t.deepEqual(byName(j.activated), [A('alpha@1.0'), A('beta@1.0'), A('gamma@1.0')].map(asJson));
  t.true((await fsp.lstat(prefix)).isDirectory(), 'DIR was created as a real directory');
  t.deepEqual(
    (await fsp.readdir(prefix)).sort(),
    ['.pstore', 'usr'],
    "only the packages' top dir and pstore's state",
  );
  await assertTreeIs(
    t,
    prefix,
    [A('alpha@1.0').pkg, A('beta@1.0').pkg, A('gamma@1.0').pkg],
    'prefix = union of the three packages',
  );
  // spot checks the listing covers, said plainly
  t.is(
    (await fsp.stat(path.join(prefix, 'usr/bin/alpha'))).mode & 0o111,
    0o111,
    'the script is executable',
  );
  t.is(await fsp.readlink(path.join(prefix, 'usr/bin/alpha-run')), 'alpha');
  t.is(await fsp.readlink(path.join(prefix, 'usr/share/doc/beta/NEWS')), 'NEWS-1.txt');
  t.is(await importedVersion(prefix, 'gamma.sub.impl'), '1.0');
  const gens = await generationsOf(t, prefix);
  t.deepEqual(
    gens.map((g) => [g.generation, g.current]),
    [[1, true]],
  );
  await verifyOk(t, prefix, 'verify after the first activation');
});

test('an upgrade is one transaction: adds, replaces and removes files, and no stale .pyc survives', async (t) => {
  const { cli, prefix, site } = await activatedPrefix(t, 'upg', V1_HARDLINKED);
  const v1 = A('alpha@1.0').pkg;
  const v2 = A('alpha@2.0').pkg;

  // The precondition of the stale-bytecode case: same size and same mtime for v1 and v2.
  const init = path.join(site, 'alpha/__init__.py');
  const bytesOf = (p: PyPackage, rel: string) =>
    (p.tree.get(`${SITE}/${rel}`) as { data: Buffer }).data;
  t.is(
    bytesOf(v1, 'alpha/__init__.py').length,
    bytesOf(v2, 'alpha/__init__.py').length,
    'v1 and v2 __init__.py have the same size',
  );
  t.notDeepEqual(bytesOf(v1, 'alpha/__init__.py'), bytesOf(v2, 'alpha/__init__.py'));
  t.is(
    (await fsp.stat(init)).mtime.getTime(),
    FIXED_MTIME.getTime(),
    'the prefix file carries the pinned object mtime',
  );

  await compileAll(prefix);
  const pycs = {
    init: await pycOf(init),
    impl: await pycOf(path.join(site, 'alpha/sub/impl.py')),
    ext: await pycOf(path.join(site, 'nsroot/alpha_ext/__init__.py')),
    core: await pycOf(path.join(site, 'alpha/core.py')),
    legacy: await pycOf(path.join(site, 'alpha/legacy.py')),
    odd: await pycOf(path.join(site, 'alpha/extra_odd.py')),
    beta: await pycOf(path.join(site, 'beta/__init__.py')),
  };
  for (const [k, f] of Object.entries(pycs))
    t.truthy(await fsp.stat(f).catch(() => undefined), `compileall wrote the ${k} .pyc`);
  const stalePyc = await fsp.readFile(pycs.init);
  t.is(await importedVersion(prefix, 'alpha'), '1.0');

  let r = await cli(['activate', 'alpha@2.0', '--prefix', prefix, '--link', 'hardlink', '--json']);
  t.is(r.code, 0, describe(r));
  const j = jsonOut<TxnJson>(r);
  t.like(j, { generation: 2, previousGeneration: 1, noop: false, link: 'hardlink' });
  t.deepEqual(j.activated, [asJson(A('alpha@2.0'))]);
  t.deepEqual(j.deactivated, [asJson(A('alpha@1.0'))]);

  await assertHolds(
    t,
    prefix,
    [v2, A('beta@1.0').pkg],
    'prefix = alpha 2.0 + beta 1.0, .pyc aside',
  );
  for (const gone of ['alpha/legacy.py', 'alpha/extra_odd.py', 'alpha-1.0.dist-info']) {
    t.false(await exists(path.join(site, gone)), `${gone} was removed`);
  }
  for (const here of ['alpha/feature.py', 'alpha/extra_even.py', 'alpha-2.0.dist-info/RECORD']) {
    t.true(await exists(path.join(site, here)), `${here} was added`);
  }
  for (const k of ['init', 'impl', 'ext', 'core', 'legacy', 'odd'] as const) {
    t.false(await exists(pycs[k]), `the .pyc of the replaced or removed module (${k}) is gone`);
  }
  t.true(
    await exists(pycs.beta),
    'bytecode of a package the transaction did not touch is left alone',
  );
  t.is(
    await importedVersion(prefix, 'alpha'),
    '2.0',
    'python imports the new __init__ (same size, same mtime as the old)',
  );
  t.is(await importedVersion(prefix, 'alpha.sub.impl'), '2.0');
  t.is(await importedVersion(prefix, 'nsroot.alpha_ext'), '2.0');

  // Control: had the old .pyc stayed, Python would have trusted it. (This is what the test guards.)
  await fsp.mkdir(path.dirname(pycs.init), { recursive: true });
  await fsp.writeFile(pycs.init, stalePyc);
  t.is(
    await importedVersion(prefix, 'alpha'),
    '1.0',
    'control: a leftover v1 .pyc is accepted for the v2 source',
  );
  await fsp.rm(pycs.init);

  const gens = await generationsOf(t, prefix);
  t.deepEqual(
    gens.map((g) => [g.generation, g.current]),
    [
      [1, false],
      [2, true],
    ],
  );
  t.deepEqual(byName(gens[1]!.packages), [A('alpha@2.0'), A('beta@1.0')].map(asJson));
  await verifyOk(t, prefix, 'verify after the upgrade');

  // And a downgrade (3 → 1 via 3) is just as exact.
  r = await cli(['activate', 'alpha@3.0', '--prefix', prefix, '--json']);
  t.is(r.code, 0, describe(r));
  r = await cli(['activate', 'alpha@1.0', '--prefix', prefix, '--json']);
  t.is(r.code, 0, describe(r));
  t.like(jsonOut<TxnJson>(r), {
    generation: 4,
    activated: [asJson(A('alpha@1.0'))],
    deactivated: [asJson(A('alpha@3.0'))],
  });
  await assertHolds(t, prefix, [v1, A('beta@1.0').pkg]);
  t.is(await importedVersion(prefix, 'alpha'), '1.0');
  t.deepEqual(await pstoreLeftovers(prefix), []);
});

// A Python process importing the package while the upgrade runs: it read and compiled the v1
// source before step (b), and writes its __pycache__ entry after step (c) swept the stale ones
// (here: it is held between compiling and writing until the upgrade committed; under load the
// scheduler does the same, see reader.test.ts). Its .pyc records v1's mtime and size. v2's module
// has the same size; what keeps python from accepting the v1 bytecode is that store objects carry
// content-derived mtimes (SPEC §Object mtimes). So this test uses a store of its own, without the
// pinned mtimes of the shared one, and first checks that property.
test('a .pyc written by an importer that raced the upgrade does not make python run the old module', async (t) => {
  const work = await tempDir(t, 'slowpyc');
  const ownStore = path.join(work, 'store');
  const s = openStore({ path: ownStore });
  const v1 = await addWithStore(s, work, castPackage('alpha', '1.0'));
  const v2 = await addWithStore(s, work, castPackage('alpha', '2.0'));
  const initObject = (a: typeof v1) => {
    const node = a.pkg.tree.get(a.pkg.modules.find((m) => m.endsWith('alpha/__init__.py'))!)!;
    if (node.type !== 'file') throw new Error('alpha/__init__.py is a file');
    return objectPathOf(ownStore, {
      integrity: `sha512-${createHash('sha512').update(node.data).digest('base64')}`,
      exec: node.exec,
    });
  };
  const [st1, st2] = await Promise.all([fsp.stat(initObject(v1)), fsp.stat(initObject(v2))]);
  t.is(
    st1.size,
    st2.size,
    'precondition: the two versions of alpha/__init__.py have the same size',
  );
  t.not(
    Math.floor(st1.mtimeMs / 1000),
    Math.floor(st2.mtimeMs / 1000),
    'their objects carry different (content-derived) mtimes',
  );
  const cli = storeCli(ownStore);
  const prefix = path.join(work, 'prefix');
  let r = await cli(['activate', 'alpha@1.0', '--prefix', prefix, '--link', 'hardlink', '--json']);
  t.is(r.code, 0, describe(r));
  const site = path.join(prefix, SITE);
  const ready = path.join(work, 'ready');
  const go = path.join(work, 'go');
  const script = path.join(work, 'slow_importer.py');
  await fsp.writeFile(
    script,
    [
      'import importlib._bootstrap_external as be, os, sys, time',
      'site, ready, go = sys.argv[1:4]',
      'orig = be.SourceFileLoader.set_data',
      'def held(self, path, data, *, _mode=0o666):',
      '    open(ready, "w").close()',
      '    while not os.path.exists(go):',
      '        time.sleep(0.01)',
      '    return orig(self, path, data, _mode=_mode)',
      'be.SourceFileLoader.set_data = held',
      'sys.path.insert(0, site)',
      'import alpha',
      'print(alpha.VERSION)',
      '',
    ].join('\n'),
  );
  const importer = execFileP('python3', ['-I', '-S', script, site, ready, go]);
  const deadline = Date.now() + 30_000;
  while (!(await exists(ready)) && Date.now() < deadline)
    await new Promise((res) => setTimeout(res, 10));
  t.true(await exists(ready), 'the importer compiled alpha 1.0 and is about to write its .pyc');

  r = await cli(['activate', 'alpha@2.0', '--prefix', prefix, '--link', 'hardlink', '--json']);
  t.is(r.code, 0, describe(r));
  await fsp.writeFile(go, '');
  t.is(
    (await importer).stdout.trim(),
    '1.0',
    'the importer got the version that was installed when it imported',
  );

  t.true(
    await exists(path.join(site, 'alpha-2.0.dist-info')),
    'alpha 2.0 is what the metadata says is installed',
  );
  t.is(
    await importedVersion(prefix, 'alpha'),
    '2.0',
    'a fresh python imports alpha 2.0, not bytecode compiled from 1.0',
  );
});

// The check lets a new module land beside an existing __pycache__/*.pyc ("Python's own, removed
// anyway", SPEC §Check). Such a .pyc is what a python importing during a deactivation leaves behind
// (it writes after step (c) swept; seen in the bytecode reader test under PSTORE_TORTURE=1). When
// the package comes back in another version whose module has the same size and mtime second, the
// leftover must not be imported in place of the new source.
test('activating a package sweeps bytecode already lying beside its new modules', async (t) => {
  const { cli, prefix, site } = await activatedPrefix(t, 'leftpyc', V1_HARDLINKED);
  await compileAll(prefix);
  const pyc = await pycOf(path.join(site, 'alpha/__init__.py'));
  const bytes = await fsp.readFile(pyc);
  let r = await cli(['deactivate', 'alpha', '--prefix', prefix, '--json']);
  t.is(r.code, 0, describe(r));
  t.false(await exists(path.join(site, 'alpha')), 'deactivate removed alpha/ with its bytecode');
  // what the importer that raced the deactivation wrote a moment later
  await fsp.mkdir(path.dirname(pyc), { recursive: true });
  await fsp.writeFile(pyc, bytes);

  r = await cli(['activate', 'alpha@2.0', '--prefix', prefix, '--link', 'hardlink', '--json']);
  t.is(r.code, 0, `the leftover .pyc does not block the activation: ${describe(r)}`);
  t.is(
    await importedVersion(prefix, 'alpha'),
    '2.0',
    'python imports alpha 2.0, not the leftover bytecode of 1.0',
  );
});

test('activating what is already active is a no-op and records no generation', async (t) => {
  const { cli, prefix } = await activatedPrefix(t, 'noop', ['alpha@2.0', 'beta@2.0']);
  const before = await readTree(path.join(prefix, '.pstore'));
  let r = await cli(['activate', 'beta@2.0', 'alpha@2.0', '--prefix', prefix, '--json']);
  t.is(r.code, 0, describe(r));
  t.like(jsonOut<TxnJson>(r), {
    generation: 1,
    previousGeneration: 1,
    activated: [],
    deactivated: [],
    noop: true,
  });
  r = await cli(['activate', A('alpha@2.0').id, '--prefix', prefix, '--json']);
  t.is(r.code, 0, describe(r));
  t.like(jsonOut<TxnJson>(r), { generation: 1, noop: true }, 'by id too');
  t.deepEqual(
    (await generationsOf(t, prefix)).map((g) => g.generation),
    [1],
  );
  const after = await readTree(path.join(prefix, '.pstore'));
  t.deepEqual(listing(after), listing(before), 'the state directory is untouched');
  // the next real change gets the next number
  r = await cli(['activate', 'gamma@1.0', '--prefix', prefix, '--json']);
  t.like(jsonOut<TxnJson>(r), { generation: 2, previousGeneration: 1 });

  // The "verify exits 0" the other tests rely on can fail: a leftover temp name is caught.
  const stray = path.join(prefix, SITE, 'gamma', '.pstore-tmp-0123456789ab-deadbeef');
  await fsp.writeFile(stray, 'left behind\n');
  const v = await cli(['verify', '--prefix', prefix, '--json']);
  t.is(v.code, 4, describe(v));
  t.deepEqual(jsonOut<{ strays: string[] }>(v).strays, [
    `${SITE}/gamma/.pstore-tmp-0123456789ab-deadbeef`,
  ]);
  await fsp.rm(stray);
  await verifyOk(t, prefix, 'clean again');
});

test('--link copy makes independent files, --link hardlink shares the store object', async (t) => {
  const cli = storeCli(store);
  const work = await tempDir(t, 'link');
  const pkg = A('beta@1.0').pkg;
  const rel = `${SITE}/beta/core.py`;
  const node = pkg.tree.get(rel) as { data: Buffer; exec: boolean };
  const obj = await fsp.stat(
    objectPathOf(store, {
      integrity: `sha512-${createHash('sha512').update(node.data).digest('base64')}`,
      exec: false,
    }),
  );
  const script = pkg.tree.get('usr/bin/beta') as { data: Buffer; exec: boolean };
  const scriptObj = await fsp.stat(
    objectPathOf(store, {
      integrity: `sha512-${createHash('sha512').update(script.data).digest('base64')}`,
      exec: true,
    }),
  );

  const results: Record<string, TxnJson> = {};
  for (const mode of ['copy', 'hardlink'] as const) {
    const prefix = path.join(work, mode);
    const r = await cli(['activate', 'beta@1.0', '--prefix', prefix, '--link', mode, '--json']);
    t.is(r.code, 0, describe(r));
    results[mode] = jsonOut<TxnJson>(r);
    t.is(results[mode]!.link, mode);
    await assertTreeIs(t, prefix, [pkg], `${mode}: exact tree`);
  }
  const hashes = await Promise.all(
    ['copy', 'hardlink'].map(async (m) => {
      const h = await cli(['hash', '--prefix', path.join(work, m), '--json']);
      t.is(h.code, 0, describe(h));
      return jsonOut<{ digest: string }>(h).digest;
    }),
  );
  t.is(hashes[0], hashes[1], 'the tree digest does not depend on the link method');
  const copied = await fsp.stat(path.join(work, 'copy', rel));
  const linked = await fsp.stat(path.join(work, 'hardlink', rel));
  t.not(copied.ino, obj.ino, 'copy: a different inode from the object');
  t.is(linked.ino, obj.ino, "hardlink: the object's inode");
  t.is(linked.dev, obj.dev);
  t.not((await fsp.stat(path.join(work, 'copy', 'usr/bin/beta'))).ino, scriptObj.ino);
  t.is(
    (await fsp.stat(path.join(work, 'copy', 'usr/bin/beta'))).mode & 0o111,
    0o111,
    'copy keeps the exec bit',
  );
  // a copy is independent: changing it does not touch the store
  await fsp.chmod(path.join(work, 'copy', rel), 0o644);
  await fsp.writeFile(path.join(work, 'copy', rel), 'changed\n');
  const v = await cli(['verify', '--json']);
  t.is(v.code, 0, `the store is intact after writing to a copied file: ${describe(v)}`);
  t.deepEqual(await fsp.readFile(path.join(work, 'hardlink', rel)), node.data);
  const pv = await cli(['verify', '--prefix', path.join(work, 'copy'), '--json']);
  t.is(pv.code, 4, `verify --prefix sees the modified copy: ${describe(pv)}`);
  t.deepEqual(jsonOut<{ modified: string[] }>(pv).modified, [rel]);
});

test("deactivate removes the package's files and emptied dirs, and keeps files nobody owns", async (t) => {
  const { cli, prefix, site } = await activatedPrefix(t, 'deact', V1_SET);
  await fsp.writeFile(path.join(site, 'alpha', 'user-notes.txt'), 'mine\n');
  await compileAll(prefix); // python's own bytecode in alpha's dirs must not keep them alive

  let r = await cli(['deactivate', 'alpha', '--prefix', prefix, '--json']);
  t.is(r.code, 0, describe(r));
  t.like(jsonOut<TxnJson>(r), {
    generation: 2,
    previousGeneration: 1,
    activated: [],
    deactivated: [asJson(A('alpha@1.0'))],
  });
  const expected = expectedTree([A('beta@1.0').pkg]);
  expected.set(`${SITE}/alpha`, { type: 'dir' });
  expected.set(`${SITE}/alpha/user-notes.txt`, {
    type: 'file',
    exec: false,
    data: Buffer.from('mine\n'),
  });
  t.deepEqual(
    await prefixListing(prefix),
    listing(expected),
    'beta + the user file (and its directory)',
  );
  t.deepEqual(
    await fsp.readdir(path.join(site, 'alpha')),
    ['user-notes.txt'],
    'alpha/ keeps only the user file (no __pycache__)',
  );
  for (const gone of ['alpha/sub', 'nsroot/alpha_ext', 'alpha.pth', 'alpha-1.0.dist-info'])
    t.false(await exists(path.join(site, gone)), `${gone} is gone`);
  t.false(await exists(path.join(prefix, 'usr/share/doc/alpha')));
  t.true(
    await exists(path.join(site, 'nsroot/beta_ext')),
    'the shared namespace dir stays for beta',
  );
  await verifyOk(t, prefix, 'verify after deactivating alpha');

  r = await cli(['deactivate', 'beta', '--prefix', prefix, '--json']);
  t.is(r.code, 0, describe(r));
  const rest = new Map(
    [...expected].filter(
      ([rel]) => rel === `${SITE}/alpha/user-notes.txt` || `${SITE}/alpha`.startsWith(rel),
    ),
  );
  t.deepEqual(
    await prefixListing(prefix),
    listing(rest),
    'only the user file and its ancestors remain',
  );
  t.false(await exists(path.join(prefix, 'usr/share')), 'usr/share, usr/bin emptied and removed');
  t.false(await exists(path.join(prefix, 'usr/bin')));
  await verifyOk(t, prefix, 'verify after deactivating everything');

  const missing = await cli(['deactivate', 'alpha', '--prefix', prefix, '--json']);
  t.is(missing.code, 6, `deactivating an inactive name is not found: ${describe(missing)}`);
  t.deepEqual(
    (await generationsOf(t, prefix)).map((g) => g.generation),
    [1, 2, 3],
  );
});

test('activate refuses to overwrite a file nobody owns (exit 3) and changes nothing', async (t) => {
  const { cli, prefix } = await activatedPrefix(t, 'conflict', ['beta@1.0']);
  await fsp.mkdir(path.join(prefix, SITE, 'gamma'), { recursive: true });
  await fsp.writeFile(path.join(prefix, SITE, 'gamma', 'core.py'), 'VERSION = "user"\n');
  const before = await prefixListing(prefix);
  const r = await cli(['activate', 'gamma@1.0', 'alpha@1.0', '--prefix', prefix, '--json']);
  t.is(r.code, 3, describe(r));
  t.regex(r.stderr, /gamma\/core\.py/);
  t.deepEqual(await prefixListing(prefix), before, 'nothing changed');
  t.deepEqual(
    (await generationsOf(t, prefix)).map((g) => g.generation),
    [1],
  );
  await verifyOk(t, prefix, 'verify after the refused activation');
});

test('library: one transaction activates and deactivates together', async (t) => {
  const prefix = path.join(await tempDir(t, 'lib'), 'prefix');
  const p = openStore({ path: store }).prefix(prefix);
  const first = await p.activate(['alpha@2.0', 'beta@1.0']);
  t.is(first.generation, 1);
  const r = await p
    .transaction()
    .activate('gamma@1.0')
    .deactivate('beta')
    .activate('alpha@3.0')
    .commit();
  t.like(r, { generation: 2, previousGeneration: 1, noop: false });
  t.deepEqual(byName(r.activated), [A('alpha@3.0'), A('gamma@1.0')].map(asJson));
  t.deepEqual(byName(r.deactivated), [A('alpha@2.0'), A('beta@1.0')].map(asJson));
  await assertTreeIs(t, prefix, [A('alpha@3.0').pkg, A('gamma@1.0').pkg], 'alpha 3.0 + gamma 1.0');
  const st = await p.status();
  t.like(st, { generation: 2, layout: 'inplace', transactionInProgress: false });
  t.deepEqual(byName(st.packages), [A('alpha@3.0'), A('gamma@1.0')].map(asJson));
  t.like(await p.verify(), { ok: true, missing: [], modified: [], strays: [] });
  t.is((await p.generations()).length, 2);
});

// One process, two stores (an installer managing two prefixes with separate stores): the same
// package added to both at once must be complete in both, so both can be activated.
test('library: the same package added to two stores at once activates from both', async (t) => {
  const work = await tempDir(t, 'twostores');
  const stores = ['a', 'b'].map((n) => openStore({ path: path.join(work, `store-${n}`) }));
  const pkg = castPackage('beta', '2.0');
  const staged = await Promise.all(
    stores.map((_, i) => stagePackage(path.join(work, `stage-${i}`), pkg)),
  );
  await Promise.all(stores.map((s, i) => s.add(staged[i]!, { name: 'beta', version: '2.0' })));
  for (const [i, s] of stores.entries()) {
    const v = await s.verify();
    t.true(
      v.ok,
      `store ${i}: every object of the entry is there: ${JSON.stringify(v.problems.map((p) => p.missing.length))} missing`,
    );
    const prefix = path.join(work, `prefix-${i}`);
    const r = await s
      .prefix(prefix)
      .activate(['beta@2.0'])
      .then(
        () => 'ok',
        (err: Error) => err.message,
      );
    t.is(r, 'ok', `activate from store ${i}`);
    if (r === 'ok') await assertTreeIs(t, prefix, [pkg], `prefix ${i}`);
  }
});
