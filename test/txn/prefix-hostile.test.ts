// Hostile and unlucky prefixes: conflicting packages, files nobody owns, and symlinks that would
// carry a write (or a delete) outside the prefix. pstore refuses with EPSTORE_CONFLICT (exit 3)
// naming the path, changes nothing, and never touches anything outside the prefix.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { openStore } from '../../lib/index.js';
import { describe, jsonOut, storeCli, type CliResult } from '../_helpers/cli.js';
import { snapshotDir } from '../_helpers/snapshot.js';
import { buildTree, file, symlink, type TreeSpec } from '../_helpers/tree.js';
import { makeTemp, removeTree, tempDir } from '../_helpers/tmp.js';
import {
  SITE,
  addPkgs,
  exists,
  jsonError,
  listTree,
  pkgSpec,
  unionOf,
  type StagedPkg,
} from '../_helpers/txn-trees.js';
import type { StatusJson } from '../_helpers/json.js';

type Layout = 'inplace' | 'generations';

/**
 * `verify --prefix` is clean (exit 0 ⇔ ok), checked through the library after the command under
 * test; its CLI contract is cli/prefix-contract's and txn/activate's.
 */
async function assertVerifies(t: ExecutionContext, store: string, prefix: string): Promise<void> {
  const v = await openStore({ path: store }).prefix(prefix).verify();
  t.true(v.ok, `verify --prefix ${prefix}: ${JSON.stringify(v)}`);
}

interface Fx {
  dir: string;
  store: string;
  prefix: string;
  /** a directory outside the prefix, with one sentinel file in it */
  outside: string;
  cli: ReturnType<typeof storeCli>;
  /** stage and add a package only this test has (e.g. a symlink to this test's OUTSIDE) */
  stage(name: string, spec: TreeSpec, version?: string): Promise<StagedPkg>;
  /** activate `refs` into the prefix through the library: a test's starting state, not its contract */
  setup(refs: string[], layout?: Layout): Promise<void>;
}

const base = { 'usr/share/doc/base/README': 'base\n' };
const PYC = `${SITE}/shared_ns/pycpkg/__pycache__/core.cpython-311.pyc`;

// Packages every test may use, added once to a template store that each test copies (adding is
// the expensive part). Names are unique: NAME alone resolves to the latest added version, so
// pkg1@2.0 is added before pkg1@1.0 and tests name versions explicitly anyway.
const TEMPLATE: Array<[string, string, TreeSpec]> = [
  ['base', '1.0', base],
  ['base2', '1.0', { 'etc/base.conf': 'b\n' }],
  ['alpha', '1.0', { 'usr/share/common/data.txt': 'alpha\n', 'usr/share/alpha/own': 'a\n' }],
  ['beta', '1.0', { 'usr/share/common/data.txt': 'beta\n', 'usr/share/beta/own': 'b\n' }],
  ['gamma', '1.0', { 'usr/share/common/data.txt': 'same bytes\n' }],
  ['delta', '1.0', { 'usr/share/common/data.txt': 'same bytes\n', 'usr/share/delta/own': 'd\n' }],
  ['pkg1', '2.0', pkgSpec('pkg1', { version: '2.0' })],
  ['pkg1', '1.0', pkgSpec('pkg1', { extra: { 'usr/share/pkg1/empty': {} } })],
  ['pkg2', '1.0', pkgSpec('pkg2')],
  ['pycpkg', '1.0', pkgSpec('pycpkg', { extra: { [PYC]: Buffer.from('shipped bytecode') } })],
  [
    'victim',
    '1.0',
    { 'lib/x/file': 'would land outside\n', 'lib/x/sub/deeper': 'd\n', 'lib/other': 'o\n' },
  ],
  ['evilrel', '1.0', { 'lib/x': symlink('../../outside') }],
  ['optvictim', '1.0', { 'opt/a/b/file': 'would land outside\n' }],
  // a directory that becomes a symlink in the next version: to OUTSIDE (`prefix/lib/x` ->
  // `../../outside`), and to another package's directory in the prefix
  [
    'morph',
    '1.0',
    {
      'lib/x/file': 'morph 1\n',
      'lib/x/sub/deeper': 'morph 1\n',
      'lib/x/mod.py': 'X = 1\n',
      'lib/keep': 'k\n',
    },
  ],
  ['morph', '2.0', { 'lib/x': symlink('../../outside'), 'lib/keep': 'k\n' }],
  [
    'docs',
    '1.0',
    { 'usr/share/doc/docs/README': 'docs 1\n', 'usr/share/doc/docs/sub/x': 'docs 1\n' },
  ],
  ['docs', '2.0', { 'usr/share/doc/docs': symlink('other') }],
  [
    'other',
    '1.0',
    { 'usr/share/doc/other/README': 'other\n', 'usr/share/doc/other/sub/x': 'other\n' },
  ],
  // every type change a path can make between versions
  [
    'shape',
    '1.0',
    {
      'share/a': 'file\n',
      'share/b/c': 'in dir\n',
      'lib/l': symlink('real'),
      'lib/real/r': 'r\n',
      'lib/d/e': 'e\n',
    },
  ],
  [
    'shape',
    '2.0',
    {
      'share/a/inner': 'now a dir\n',
      'share/b': 'now a file\n',
      'lib/l/own': 'now a dir\n',
      'lib/real/r': 'r\n',
      'lib/d': symlink('real'),
    },
  ],
];
let template: { root: string; store: string };
const staged = new Map<string, StagedPkg>();

test.before(async () => {
  const root = await makeTemp('prefix-hostile');
  const store = path.join(root, 'store');
  for (const [name, version, spec] of TEMPLATE) {
    const p: StagedPkg = {
      name,
      version,
      dir: await buildTree(path.join(root, 'src', `${name}-${version}`), spec),
    };
    staged.set(`${name}@${version}`, p);
  }
  // through the library, in TEMPLATE order (adding is setup here, not the contract under test)
  await addPkgs(store, [...staged.values()]);
  template = { root, store };
});

test.after.always(async () => {
  if (template) await removeTree(template.root);
});

const pkg = (ref: string): StagedPkg =>
  staged.get(ref) ??
  (() => {
    throw new Error(`no template package ${ref}`);
  })();

async function fx(t: ExecutionContext, tag: string): Promise<Fx> {
  const dir = await tempDir(t, tag);
  const store = path.join(dir, 'store');
  await fsp.cp(template.store, store, { recursive: true });
  const cli = storeCli(store);
  const prefix = path.join(dir, 'prefix');
  const outside = await buildTree(path.join(dir, 'outside'), {
    'sentinel.txt': 'outside the prefix\n',
  });
  return {
    dir,
    store,
    prefix,
    outside,
    cli,
    async stage(name, spec, version = '1.0') {
      const p: StagedPkg = {
        name,
        version,
        dir: await buildTree(path.join(dir, 'src', `${name}-${version}`), spec),
      };
      await addPkgs(store, [p]);
      return p;
    },
    async setup(refs, layout) {
      await openStore({ path: store }).prefix(prefix, { layout }).activate(refs);
    },
  };
}

function stateDir(prefix: string, layout: Layout): string {
  return layout === 'inplace'
    ? path.join(prefix, '.pstore')
    : path.join(path.dirname(prefix), `.pstore-${path.basename(prefix)}`);
}

/** Everything that "the prefix is unchanged" covers: its tree and pstore's state for it. */
async function prefixState(prefix: string, layout: Layout = 'inplace'): Promise<unknown> {
  return {
    tree: await listTree(prefix),
    state: await snapshotDir(stateDir(prefix, layout)),
  };
}

async function activate(f: Fx, refs: string[], extra: string[] = []): Promise<CliResult> {
  return f.cli(['activate', ...refs, '--prefix', f.prefix, '--json', ...extra]);
}

function assertConflict(t: ExecutionContext, r: CliResult, ...mentions: string[]): void {
  t.is(r.code, 3, describe(r));
  const e = jsonError(r);
  t.is(e.code, 'EPSTORE_CONFLICT');
  for (const m of mentions)
    t.true(
      `${e.message} ${e.subject ?? ''}`.includes(m),
      `the error names ${m}: ${JSON.stringify(e)}`,
    );
}

async function assertOutsideUntouched(t: ExecutionContext, f: Fx, before?: unknown): Promise<void> {
  const now = await snapshotDir(f.outside);
  if (before) t.deepEqual(now, before, 'nothing outside the prefix changed');
  else t.deepEqual(Object.keys(now), ['sentinel.txt'], 'nothing was created outside the prefix');
}

// ---------------------------------------------------------------------------------------------
// Two packages, one path

for (const layout of ['inplace', 'generations'] as const) {
  test(`${layout}: two packages shipping one file path in one activate → exit 3 naming the path and both owners`, async (t) => {
    const f = await fx(t, 'dup1');
    await f.setup(['base'], layout);
    const before = await prefixState(f.prefix, layout);
    assertConflict(
      t,
      await activate(f, ['alpha', 'beta']),
      'usr/share/common/data.txt',
      'alpha',
      'beta',
    );
    t.deepEqual(
      await prefixState(f.prefix, layout),
      before,
      'the prefix and its state are unchanged',
    );
  });

  test(`${layout}: a package shipping a path an active package owns → exit 3 naming both owners`, async (t) => {
    const f = await fx(t, 'dup2');
    await f.setup(['gamma'], layout);
    const before = await prefixState(f.prefix, layout);
    const r = await activate(f, ['delta']);
    assertConflict(t, r, 'usr/share/common/data.txt', 'gamma', 'delta');
    t.is(jsonError(r).subject, 'usr/share/common/data.txt');
    t.deepEqual(
      await prefixState(f.prefix, layout),
      before,
      'the prefix and its state are unchanged',
    );
  });
}

// ---------------------------------------------------------------------------------------------
// What the user put in the prefix

test('an unowned file at a package path → exit 3 naming it; the file and the prefix are untouched', async (t) => {
  const f = await fx(t, 'unowned');
  await f.setup(['base']);
  const mine = path.join(f.prefix, 'usr/share/doc/pkg1/README');
  await fsp.mkdir(path.dirname(mine), { recursive: true });
  await fsp.writeFile(mine, 'my own notes\n', { mode: 0o600 });
  const before = await prefixState(f.prefix);
  const st = await fsp.stat(mine);
  assertConflict(t, await activate(f, ['pkg1@1.0']), 'usr/share/doc/pkg1/README');
  t.deepEqual(await prefixState(f.prefix), before);
  t.is(await fsp.readFile(mine, 'utf8'), 'my own notes\n');
  const st2 = await fsp.stat(mine);
  t.is(st2.ino, st.ino, 'the same inode');
  t.is(st2.mode & 0o777, 0o600);
  t.false(await exists(path.join(f.prefix, 'usr/bin/tool-pkg1')), 'nothing of pkg1 was placed');
});

test('an unowned directory at a package directory path merges: activation succeeds, the user file stays', async (t) => {
  const f = await fx(t, 'merge');
  const p1 = pkg('pkg1@1.0');
  await buildTree(f.prefix, {
    'usr/share/doc/pkg1/NOTES.mine': 'user file\n',
    [`${SITE}/shared_ns/pkg1/local.cfg`]: 'x=1\n',
  });
  const r = await activate(f, ['pkg1@1.0']);
  t.is(r.code, 0, describe(r));
  const tree = await listTree(f.prefix);
  const want = await unionOf([p1]);
  for (const [k, v] of Object.entries(want)) t.is(tree[k], v, k);
  t.deepEqual(
    Object.keys(tree)
      .filter((k) => !(k in want))
      .sort(),
    [`${SITE}/shared_ns/pkg1/local.cfg`, 'usr/share/doc/pkg1/NOTES.mine'],
  );
  await assertVerifies(t, f.store, f.prefix);
  // Deactivating leaves the user's files (and so their directories) in place.
  const d = await f.cli(['deactivate', 'pkg1', '--prefix', f.prefix]);
  t.is(d.code, 0, describe(d));
  t.is(
    await fsp.readFile(path.join(f.prefix, 'usr/share/doc/pkg1/NOTES.mine'), 'utf8'),
    'user file\n',
  );
  t.false(await exists(path.join(f.prefix, 'usr/share/doc/pkg1/README')));
});

test('a __pycache__/*.pyc Python wrote where a package ships the same .pyc path does not block activation', async (t) => {
  const f = await fx(t, 'pyc');
  await buildTree(f.prefix, { [PYC]: Buffer.from('bytecode python wrote') });
  const r = await activate(f, ['pycpkg']);
  t.is(r.code, 0, describe(r));
  t.is(await fsp.readFile(path.join(f.prefix, PYC), 'utf8'), 'shipped bytecode');
  t.deepEqual(await listTree(f.prefix), await unionOf([pkg('pycpkg@1.0')]));
  await assertVerifies(t, f.store, f.prefix);
});

// ---------------------------------------------------------------------------------------------
// Symlink escapes: a directory path that is a symlink to somewhere else

for (const layout of ['inplace', 'generations'] as const) {
  test(`${layout}: package A ships lib/x -> /OUTSIDE, package B ships lib/x/file: B after A, and A+B, exit 3 naming lib/x`, async (t) => {
    const f = await fx(t, 'esc-pkg');
    await f.stage('evil', { 'lib/x': symlink(f.outside), 'lib/evil.txt': 'e\n' });
    await f.setup(['base'], layout);

    // together, into a prefix that has neither
    let before = await prefixState(f.prefix, layout);
    assertConflict(t, await activate(f, ['evil', 'victim']), 'lib/x');
    t.deepEqual(await prefixState(f.prefix, layout), before);
    await assertOutsideUntouched(t, f);

    // B while A is active
    const a = await activate(f, ['evil']);
    t.is(a.code, 0, describe(a));
    t.is(await fsp.readlink(path.join(f.prefix, 'lib/x')), f.outside);
    before = await prefixState(f.prefix, layout);
    assertConflict(t, await activate(f, ['victim']), 'lib/x', 'evil', 'victim');
    t.deepEqual(await prefixState(f.prefix, layout), before);
    await assertOutsideUntouched(t, f);
  });
}

test('package A ships a relative lib/x -> ../../outside; B ships lib/x/file → exit 3, nothing outside', async (t) => {
  const f = await fx(t, 'esc-rel');
  await f.setup(['evilrel']);
  t.is(
    await fsp.realpath(path.join(f.prefix, 'lib/x')),
    await fsp.realpath(f.outside),
    'the link does lead outside',
  );
  const before = await prefixState(f.prefix);
  assertConflict(t, await activate(f, ['victim']), 'lib/x', 'evilrel', 'victim');
  t.deepEqual(await prefixState(f.prefix), before);
  await assertOutsideUntouched(t, f);
});

for (const kind of ['absolute', 'relative'] as const) {
  test(`an unowned ${kind} symlink lib/x -> OUTSIDE made by the user; a package ships lib/x/file → exit 3, nothing outside`, async (t) => {
    const f = await fx(t, `esc-user-${kind}`);
    await f.setup(['base']);
    await fsp.mkdir(path.join(f.prefix, 'lib'));
    await fsp.symlink(
      kind === 'absolute' ? f.outside : '../../outside',
      path.join(f.prefix, 'lib/x'),
    );
    const before = await prefixState(f.prefix);
    assertConflict(t, await activate(f, ['victim']), 'lib/x');
    t.deepEqual(await prefixState(f.prefix), before);
    await assertOutsideUntouched(t, f);
  });
}

test('a symlinked parent two levels up (user-made usr -> OUTSIDE) → exit 3 naming usr, nothing outside', async (t) => {
  const f = await fx(t, 'esc-up2');
  await f.setup(['base2']);
  await fsp.mkdir(path.join(f.outside, 'lib'));
  await fsp.symlink(f.outside, path.join(f.prefix, 'usr'));
  const outsideBefore = await snapshotDir(f.outside);
  const before = await prefixState(f.prefix);
  assertConflict(t, await activate(f, ['pkg1@1.0']), path.join(f.prefix, 'usr'));
  t.deepEqual(await prefixState(f.prefix), before);
  await assertOutsideUntouched(t, f, outsideBefore);
});

test('a package-shipped symlinked parent two levels up (opt -> OUTSIDE) and a package with opt/a/b/file → exit 3', async (t) => {
  const f = await fx(t, 'esc-up2-pkg');
  await f.stage('evilopt', { opt: symlink(f.outside) });
  await f.setup(['evilopt']);
  const before = await prefixState(f.prefix);
  assertConflict(t, await activate(f, ['optvictim']), 'opt', 'evilopt', 'optvictim');
  t.deepEqual(await prefixState(f.prefix), before);
  await assertOutsideUntouched(t, f);
});

test('the prefix given through a symlinked parent (and as a symlink itself) works and is one prefix', async (t) => {
  const f = await fx(t, 'via-link');
  const p2 = pkg('pkg2@1.0');
  const real = await fsp
    .mkdir(path.join(f.dir, 'real'), { recursive: true })
    .then(() => path.join(f.dir, 'real'));
  await fsp.symlink(real, path.join(f.dir, 'link'));
  const viaLink = path.join(f.dir, 'link', 'prefix');
  const direct = path.join(real, 'prefix');

  const r1 = await f.cli(['activate', 'pkg1@1.0', '--prefix', viaLink, '--json']);
  t.is(r1.code, 0, describe(r1));
  t.is(
    jsonOut<{ prefix: string }>(r1).prefix,
    await fsp.realpath(direct),
    'reported under its real path',
  );
  t.true(
    (await fsp.lstat(direct)).isDirectory(),
    'the prefix is a real directory under the real parent',
  );
  const r2 = await f.cli(['activate', 'pkg2', '--prefix', direct, '--json']);
  t.like(jsonOut<{ generation: number }>(r2), { generation: 2 });

  // And a prefix path that is itself a symlink to the directory.
  const alias = path.join(f.dir, 'alias');
  await fsp.symlink(direct, alias);
  for (const p of [viaLink, direct, alias]) {
    const st = await f.cli(['status', '--prefix', p, '--json']);
    t.is(st.code, 0, describe(st));
    t.like(jsonOut<StatusJson>(st), { generation: 2 });
    await assertVerifies(t, f.store, p);
  }
  const d = await f.cli(['deactivate', 'pkg1', '--prefix', alias, '--json']);
  t.is(d.code, 0, describe(d));
  t.true((await fsp.lstat(alias)).isSymbolicLink(), 'the alias is still a symlink');
  t.deepEqual(await listTree(direct), await unionOf([p2]));
  const gens = jsonOut<unknown[]>(await f.cli(['generations', '--prefix', viaLink, '--json']));
  t.is(gens.length, 3, 'one prefix, whichever path named it');
});

// ---------------------------------------------------------------------------------------------
// Deactivation through a user's symlink must not delete outside the prefix

async function withActivePkg1(t: ExecutionContext, tag: string) {
  const f = await fx(t, tag);
  await f.setup(['base', 'pkg1@1.0']);
  return { f };
}

/** Deactivate: refusing (3) or succeeding are both acceptable; deleting outside the prefix is not. */
async function deactivateSafely(
  t: ExecutionContext,
  f: Fx,
  outsideBefore: unknown,
  symlinkRel: string,
): Promise<void> {
  const r = await f.cli(['deactivate', 'pkg1', '--prefix', f.prefix, '--json']);
  t.true(r.code === 0 || r.code === 3, describe(r));
  if (r.code === 3)
    t.true(jsonError(r).message.includes(symlinkRel), `names ${symlinkRel}: ${r.stderr}`);
  await assertOutsideUntouched(t, f, outsideBefore);
}

test('deactivate a package whose directory the user replaced with a symlink to outside: nothing outside is deleted', async (t) => {
  const { f } = await withActivePkg1(t, 'deact-dir');
  // OUTSIDE holds files with the very names the package owns in that directory.
  await buildTree(f.outside, {
    README: "not pstore's\n",
    copyright: "not pstore's either\n",
    keep: 'k\n',
  });
  const docDir = path.join(f.prefix, 'usr/share/doc/pkg1');
  await fsp.rm(docDir, { recursive: true });
  await fsp.symlink(f.outside, docDir);
  await deactivateSafely(t, f, await snapshotDir(f.outside), 'usr/share/doc/pkg1');
});

test('deactivate a package whose directory two levels up the user replaced with a symlink: nothing outside is deleted', async (t) => {
  const { f } = await withActivePkg1(t, 'deact-up');
  const shared = path.join(f.prefix, SITE, 'shared_ns');
  await fsp.cp(shared, path.join(f.outside, 'shared_ns'), { recursive: true });
  await fsp.rm(shared, { recursive: true });
  await fsp.symlink(path.join(f.outside, 'shared_ns'), shared);
  await deactivateSafely(t, f, await snapshotDir(f.outside), `${SITE}/shared_ns`);
});

test('deactivate a package whose __pycache__ the user made a symlink to outside: no .pyc outside is deleted', async (t) => {
  const { f } = await withActivePkg1(t, 'deact-pyc');
  // Python's bytecode cache of pkg1's modules, redirected elsewhere (say, a shared cache dir).
  await buildTree(f.outside, {
    'cache/core.cpython-311.pyc': "someone else's bytecode\n",
    'cache/__init__.cpython-311.pyc': "someone else's bytecode\n",
  });
  await fsp.symlink(
    path.join(f.outside, 'cache'),
    path.join(f.prefix, SITE, 'shared_ns/pkg1/__pycache__'),
  );
  await deactivateSafely(t, f, await snapshotDir(f.outside), `${SITE}/shared_ns/pkg1/__pycache__`);
});

test('upgrade a package whose __pycache__ the user made a symlink to outside: no .pyc outside is deleted', async (t) => {
  const { f } = await withActivePkg1(t, 'upg-pyc');
  await buildTree(f.outside, { 'cache/core.cpython-311.pyc': "someone else's bytecode\n" });
  await fsp.symlink(
    path.join(f.outside, 'cache'),
    path.join(f.prefix, SITE, 'shared_ns/pkg1/__pycache__'),
  );
  const outsideBefore = await snapshotDir(f.outside);
  const r = await activate(f, ['pkg1@2.0']);
  t.true(r.code === 0 || r.code === 3, describe(r));
  await assertOutsideUntouched(t, f, outsideBefore);
});

test('deactivate a package whose empty directory the user replaced with a symlink to outside: nothing outside is deleted', async (t) => {
  const { f } = await withActivePkg1(t, 'deact-empty');
  await buildTree(f.outside, { __pycache__: {}, 'other/dir': {} });
  const empty = path.join(f.prefix, 'usr/share/pkg1/empty');
  await fsp.rmdir(empty);
  await fsp.symlink(f.outside, empty);
  await deactivateSafely(t, f, await snapshotDir(f.outside), 'usr/share/pkg1/empty');
});

// ---------------------------------------------------------------------------------------------
// A failed first activation leaves the user's directory exactly as it was

async function userDir(f: Fx): Promise<string> {
  return buildTree(f.prefix, {
    '.bashrc': 'export X=1\n',
    '.config/tool/settings': 'a=b\n',
    '.hidden-dir': {},
    'usr/share/doc/pkg1/README': "mine, not pkg1's\n",
    'usr/bin/mytool': file('#!/bin/sh\n', 0o750),
    'link-to-home': symlink('/nonexistent/home'),
  });
}

for (const [what, refs, code] of [
  ['a conflict', ['pkg1@1.0'], 3],
  ['an unknown ref', ['pkg1@1.0', 'nosuch@9'], 6],
  ['a duplicate name', ['pkg1@1.0', 'pkg1@2.0'], 2],
] as const) {
  test(`a failed first activation (${what}) into an existing directory leaves it exactly as it was, no .pstore`, async (t) => {
    const f = await fx(t, 'first');
    await userDir(f);
    await fsp.chmod(f.prefix, 0o751);
    const before = await snapshotDir(f.prefix);
    const parentBefore = await fsp.readdir(f.dir);
    const r = await activate(f, [...refs]);
    t.is(r.code, code, describe(r));
    t.deepEqual(
      await snapshotDir(f.prefix),
      before,
      'every path, dotfiles included, with modes and contents',
    );
    t.is((await fsp.stat(f.prefix)).mode & 0o777, 0o751);
    t.false(await exists(path.join(f.prefix, '.pstore')));
    t.deepEqual(
      (await fsp.readdir(f.dir)).sort(),
      parentBefore.sort(),
      'nothing new beside it either',
    );
    const st = await f.cli(['status', '--prefix', f.prefix]);
    t.is(st.code, 6, `still not a pstore prefix: ${describe(st)}`);
  });
}

test('a generations prefix cannot be created over an existing directory: exit 3, directory and parent untouched', async (t) => {
  const f = await fx(t, 'gen-exists');
  await userDir(f);
  const before = await snapshotDir(f.dir, { exclude: ['store'] });
  const r = await activate(f, ['pkg1@1.0'], ['--layout', 'generations']);
  assertConflict(t, r, f.prefix);
  t.deepEqual(
    await snapshotDir(f.dir, { exclude: ['store'] }),
    before,
    'no .pstore-prefix beside it, nothing inside it',
  );
});

// ---------------------------------------------------------------------------------------------
// Type changes between versions: what was a directory becomes a symlink (and every other change)

test('an upgrade that turns a directory into a symlink to outside deletes nothing outside', async (t) => {
  const f = await fx(t, 'morph-out');
  await f.setup(['morph@1.0']);
  // OUTSIDE holds the names the old directory had: a file, an empty subdirectory, a .pyc.
  await buildTree(f.outside, {
    file: 'precious\n',
    'sub/deeper': 'precious too\n',
    '__pycache__/mod.cpython-311.pyc': 'bytecode\n',
    empty: {},
  });
  const outsideBefore = await snapshotDir(f.outside);
  const r = await activate(f, ['morph@2.0']);
  t.is(r.code, 0, describe(r));
  await assertOutsideUntouched(t, f, outsideBefore);
  t.is(await fsp.readlink(path.join(f.prefix, 'lib/x')), '../../outside');
  await assertVerifies(t, f.store, f.prefix);
});

test("an upgrade that turns a directory into a symlink to another package's directory leaves that package intact", async (t) => {
  const f = await fx(t, 'morph-in');
  await f.setup(['docs@1.0', 'other']);
  const r = await activate(f, ['docs@2.0']);
  t.is(r.code, 0, describe(r));
  t.deepEqual(
    await listTree(f.prefix),
    await unionOf([pkg('docs@2.0'), pkg('other@1.0')]),
    "other's README and sub/x are still there",
  );
  await assertVerifies(t, f.store, f.prefix);
  // and back: rollback turns the symlink into a directory again
  const rb = await f.cli(['rollback', '--prefix', f.prefix, '--json']);
  t.is(rb.code, 0, describe(rb));
  t.deepEqual(await listTree(f.prefix), await unionOf([pkg('docs@1.0'), pkg('other@1.0')]));
});

test('file → directory, directory → file, symlink → directory, directory → symlink: upgrade and rollback give exact trees', async (t) => {
  const f = await fx(t, 'shape');
  await f.setup(['shape@1.0']);
  const up = await activate(f, ['shape@2.0']);
  t.is(up.code, 0, describe(up));
  t.deepEqual(await listTree(f.prefix), await unionOf([pkg('shape@2.0')]));
  await assertVerifies(t, f.store, f.prefix);
  const rb = await f.cli(['rollback', '--prefix', f.prefix]);
  t.is(rb.code, 0, describe(rb));
  t.deepEqual(await listTree(f.prefix), await unionOf([pkg('shape@1.0')]));
  await assertVerifies(t, f.store, f.prefix);
});

test("a package may not ship paths named .pstore*: add refuses them (exit 7), so none can reach a prefix's state", async (t) => {
  const f = await fx(t, 'reserved');
  for (const spec of [
    { '.pstore/journal.json': '{}' },
    { '.pstore/generations/9.json': '{}' },
    { 'usr/.pstore-tmp-abc-12345678': 'x' },
  ] as TreeSpec[]) {
    const dir = await buildTree(
      path.join(f.dir, 'src', `reserved-${Object.keys(spec)[0]!.replace(/\W/g, '_')}`),
      spec,
    );
    const r = await f.cli(['add', dir, '--name', 'reserved', '--version', '1', '--json']);
    t.is(r.code, 7, describe(r));
    t.is(jsonError(r).code, 'EPSTORE_UNSAFE_PATH');
  }
});

// ---------------------------------------------------------------------------------------------
// Recovery runs the same plan again: it must not write through a symlink that appeared meanwhile

for (const via of ['recover', 'activate'] as const) {
  test(`${via} after a crash does not write through a symlink planted in the prefix since`, async (t) => {
    const f = await fx(t, `recover-${via}`);
    await f.setup(['base']);
    const crashed = await f.cli(['activate', 'pkg1@1.0', '--prefix', f.prefix], {
      env: { PSTORE_TEST_CRASHPOINT: 'txn:after-journal' },
    });
    t.is(crashed.signal, 'SIGKILL', describe(crashed));
    // usr/share/doc (owned by base, already there) now leads outside, with base's files moved along.
    const doc = path.join(f.prefix, 'usr/share/doc');
    await fsp.rename(path.join(doc, 'base'), path.join(f.outside, 'base'));
    await fsp.rmdir(doc);
    await fsp.symlink(f.outside, doc);
    const outsideBefore = await snapshotDir(f.outside);
    const r =
      via === 'recover'
        ? await f.cli(['recover', '--prefix', f.prefix, '--json'])
        : await activate(f, ['pkg2']);
    t.true(r.code === 0 || r.code === 3, describe(r));
    await assertOutsideUntouched(t, f, outsideBefore);
  });
}

// ---------------------------------------------------------------------------------------------
// A path the user changed under a package must not wedge the prefix

test('deactivate a package one of whose files the user replaced with a directory: refused or done, never wedged', async (t) => {
  const f = await fx(t, 'wedge');
  await f.setup(['base', 'pkg1@1.0']);
  const readme = path.join(f.prefix, 'usr/share/doc/pkg1/README');
  await fsp.rm(readme);
  await buildTree(readme, { notes: "the user's own notes\n" });
  const r = await f.cli(['deactivate', 'pkg1', '--prefix', f.prefix, '--json']);
  t.true(
    r.code === 0 || r.code === 3,
    `refused with EPSTORE_CONFLICT naming the path, or done: ${describe(r)}`,
  );
  if (r.code === 3) t.true(jsonError(r).message.includes('usr/share/doc/pkg1/README'), r.stderr);
  t.is(
    await fsp.readFile(path.join(readme, 'notes'), 'utf8'),
    "the user's own notes\n",
    "the user's file is intact",
  );
  t.false(await exists(path.join(f.prefix, '.pstore', 'journal.json')), 'no journal left behind');
  const st = await f.cli(['status', '--prefix', f.prefix, '--json']);
  t.is(st.code, 0, `status still works: ${describe(st)}`);
  const s = jsonOut<StatusJson & { transactionInProgress: boolean }>(st);
  t.false(s.transactionInProgress);
  t.deepEqual(s.packages.map((p) => p.name).sort(), r.code === 0 ? ['base'] : ['base', 'pkg1']);
  const again = await activate(f, ['pkg2']);
  t.is(again.code, 0, `the prefix still takes transactions: ${describe(again)}`);
});
