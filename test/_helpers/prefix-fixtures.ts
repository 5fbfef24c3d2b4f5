// Synthetic but *real* Python packages for the transaction-layer tests, as staged trees rooted at
// the prefix root:
//
//   usr/lib/python3/dist-packages/NAME/{__init__,core,_static,legacy|feature,extra_odd|even}.py
//   usr/lib/python3/dist-packages/NAME/sub/{__init__,impl}.py         (a subpackage)
//   usr/lib/python3/dist-packages/nsroot/NAME_ext/__init__.py          (a namespace dir all share)
//   usr/lib/python3/dist-packages/NAME/gen/dNN/mNNNN.py                (opts.bulk: many files)
//   usr/lib/python3/dist-packages/NAME-VERSION.dist-info/{METADATA,RECORD,WHEEL,top_level.txt}
//   usr/lib/python3/dist-packages/NAME.pth (or another name)           (opts.pth: a second marker unit)
//   usr/bin/NAME (0755), usr/bin/NAME-run -> NAME
//   usr/share/doc/NAME/{copyright,NEWS-<major>.txt}, usr/share/doc/NAME/NEWS -> NEWS-<major>.txt
//
// RECORD lists every file and symlink (paths relative to dist-packages, `../../../bin/NAME` for
// the script) with `sha256=<urlsafe b64, no padding>,size`; RECORD itself and symlinks have empty
// hash and size. Every module that matters carries `VERSION = "<version>"`, `__init__` also a
// `version()` function, so an importer can tell which version it really got.
//
// Versions are meant to be "1.0", "2.0", "3.0" ...: the major number picks the module set, so an
// upgrade adds (feature.py from 2), removes (legacy.py only in 1), replaces (core.py grows) and
// flips (extra_odd/extra_even). `__init__.py`, `sub/impl.py` and `nsroot/NAME_ext/__init__.py` have
// the SAME SIZE in every version whose version string has the same length: the stale-.pyc case.
//
// Nothing here uses pstore's code: the expected tree of a set of packages is computed from these
// descriptions alone.

import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { openStore } from '../../lib/index.js';
import { describe, jsonOut, type CliResult } from './cli.js';
import { makeTemp } from './tmp.js';
import { buildTree, file, sha256Hex, symlink, walkTree, type TreeSpec } from './tree.js';

export const SITE = 'usr/lib/python3/dist-packages';

export type FixtureNode =
  | { type: 'file'; data: Buffer; exec: boolean }
  | { type: 'dir' }
  | { type: 'symlink'; target: string };

/** prefix-relative path → what is there (directories included, the root excluded) */
export type FixtureTree = Map<string, FixtureNode>;

export interface PyPackageOptions {
  /** this many extra modules under NAME/gen/dNN/ (100 per directory): big packages */
  bulk?: number;
  /** ship a .pth file in dist-packages, a second marker unit: `true` for NAME.pth, or its file name */
  pth?: boolean | string;
}

export interface PyPackage {
  name: string;
  version: string;
  major: number;
  tree: FixtureTree;
  /** prefix-relative path of the .dist-info directory */
  distInfo: string;
  /** prefix-relative paths of the .py modules */
  modules: string[];
}

/** A RECORD row of a wheel's .dist-info: `path,sha256=<urlsafe b64, no padding>,size`. */
export function recordRow(relToSite: string, data: Uint8Array): string {
  return `${relToSite},sha256=${createHash('sha256').update(data).digest('base64url')},${data.length}`;
}

function majorOf(version: string): number {
  const n = Number.parseInt(version, 10);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`fixture versions start with a major number ≥ 1, not ${version}`);
  return n;
}

/** Describe one version of a generated Python package. Deterministic: same inputs, same bytes. */
export function pyPackage(name: string, version: string, opts: PyPackageOptions = {}): PyPackage {
  if (!/^[a-z][a-z0-9_]*$/.test(name))
    throw new Error(`fixture package names are Python identifiers: ${name}`);
  const major = majorOf(version);
  const files = new Map<string, FixtureNode>();
  const py = (rel: string, text: string) =>
    files.set(`${SITE}/${rel}`, { type: 'file', data: Buffer.from(text), exec: false });

  py(
    `${name}/__init__.py`,
    [
      `"""${name}: a generated test package."""`,
      `VERSION = "${version}"`,
      '',
      '',
      'def version():',
      `    return "${version}"`,
      '',
    ].join('\n'),
  );
  py(
    `${name}/core.py`,
    [
      `VERSION = "${version}"`,
      `VALUE = ${major}`,
      ...Array.from({ length: major }, (_, i) => `# filler line ${i} of version ${version}`),
      '',
    ].join('\n'),
  );
  py(`${name}/_static.py`, 'STATIC = 42\n');
  if (major === 1)
    py(`${name}/legacy.py`, `VERSION = "${version}"\n\n\ndef old_api():\n    return "legacy"\n`);
  if (major >= 2)
    py(`${name}/feature.py`, `VERSION = "${version}"\n\n\ndef new_api():\n    return ${major}\n`);
  py(
    `${name}/extra_${major % 2 ? 'odd' : 'even'}.py`,
    `VERSION = "${version}"\nPARITY = ${major % 2}\n`,
  );
  py(`${name}/sub/__init__.py`, `VERSION = "${version}"\n`);
  py(`${name}/sub/impl.py`, `VERSION = "${version}"\n\n\ndef where():\n    return __name__\n`);
  py(`nsroot/${name}_ext/__init__.py`, `VERSION = "${version}"\n`);
  if (opts.bulk) {
    py(`${name}/gen/__init__.py`, '');
    for (let i = 0; i < opts.bulk; i++) {
      py(
        `${name}/gen/d${String(Math.floor(i / 100)).padStart(2, '0')}/m${String(i).padStart(4, '0')}.py`,
        `VALUE = ${i}\nMAJOR = ${major}\n`,
      );
    }
    py(`${name}/gen/only${major}.py`, `ONLY = ${major}\n`);
  }
  if (opts.pth)
    py(typeof opts.pth === 'string' ? opts.pth : `${name}.pth`, `# ${name} ${version}\n`);
  files.set(`usr/bin/${name}`, {
    type: 'file',
    exec: true,
    data: Buffer.from(`#!/usr/bin/python3\nimport ${name}\nprint(${name}.VERSION)\n`),
  });
  files.set(`usr/bin/${name}-run`, { type: 'symlink', target: name });
  files.set(`usr/share/doc/${name}/copyright`, {
    type: 'file',
    exec: false,
    data: Buffer.from(`${name} is in the public domain\n`),
  });
  files.set(`usr/share/doc/${name}/NEWS-${major}.txt`, {
    type: 'file',
    exec: false,
    data: Buffer.from(`${name} ${version}: news\n`.repeat(major)),
  });
  files.set(`usr/share/doc/${name}/NEWS`, { type: 'symlink', target: `NEWS-${major}.txt` });

  const distInfo = `${SITE}/${name}-${version}.dist-info`;
  const meta = (rel: string, text: string) =>
    files.set(`${distInfo}/${rel}`, { type: 'file', exec: false, data: Buffer.from(text) });
  meta(
    'METADATA',
    `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\nSummary: generated package ${name}\n`,
  );
  meta(
    'WHEEL',
    'Wheel-Version: 1.0\nGenerator: pstore-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
  );
  meta('top_level.txt', `${name}\nnsroot\n`);
  const record: string[] = [];
  for (const [rel, node] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const r = path.posix.relative(SITE, rel);
    if (node.type === 'file') record.push(recordRow(r, node.data));
    else if (node.type === 'symlink') record.push(`${r},,`);
  }
  record.push(`${path.posix.relative(SITE, distInfo)}/RECORD,,`);
  meta('RECORD', `${record.join('\n')}\n`);

  const tree: FixtureTree = new Map();
  for (const rel of files.keys()) {
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) tree.set(parts.slice(0, i).join('/'), { type: 'dir' });
  }
  for (const [rel, node] of files) tree.set(rel, node);
  const modules = [...files.keys()].filter((p) => p.endsWith('.py'));
  return { name, version, major, tree, distInfo, modules };
}

/** Write a package's staged tree under `dir` (created; must not exist or be empty). */
export async function stagePackage(dir: string, pkg: PyPackage): Promise<string> {
  const spec: TreeSpec = {};
  for (const [rel, node] of pkg.tree) {
    if (node.type === 'dir') spec[rel] = {};
    else if (node.type === 'symlink') spec[rel] = symlink(node.target);
    else spec[rel] = file(node.data, node.exec ? 0o755 : 0o644);
  }
  return buildTree(dir, spec);
}

export interface Added {
  pkg: PyPackage;
  id: string;
  /** NAME@VERSION */
  ref: string;
}

type Cli = (args: readonly string[]) => Promise<CliResult>;

/** Stage `pkg` in a folder of its own under `work`, a random suffix apart from concurrent adds. */
function stageForAdd(work: string, pkg: PyPackage): Promise<string> {
  const unique = Math.random().toString(36).slice(2, 8);
  return stagePackage(path.join(work, `stage-${pkg.name}-${pkg.version}-${unique}`), pkg);
}

/** Stage `pkg` under `work` and `pstore add` it through the CLI; returns the entry id. */
export async function addWithCli(
  t: ExecutionContext,
  cli: Cli,
  work: string,
  pkg: PyPackage,
): Promise<Added> {
  const src = await stageForAdd(work, pkg);
  const r = await cli(['add', src, '--name', pkg.name, '--version', pkg.version, '--json']);
  if (r.code !== 0) t.fail(`add ${pkg.name}@${pkg.version}: ${describe(r)}`);
  await fsp.rm(src, { recursive: true, force: true });
  return { pkg, id: jsonOut<{ id: string }>(r).id, ref: `${pkg.name}@${pkg.version}` };
}

// Library adds run one at a time within a test process: setup is not what these tests exercise,
// and one add at a time keeps concurrent tests' setups from contending for the two cores.
// Concurrent adds are tested for themselves (test/txn/activate.test.ts, two stores at once).
let addChain: Promise<unknown> = Promise.resolve();

/** Run a library add after every earlier one of this test process has finished (see above). */
export function serialAdd<T>(add: () => Promise<T>): Promise<T> {
  const done = addChain.then(add);
  addChain = done.catch(() => {});
  return done;
}

/** The same through the library (`openStore(...).add`). */
export async function addWithStore(
  store: { add(src: string, o: { name: string; version: string }): Promise<{ id: string }> },
  work: string,
  pkg: PyPackage,
): Promise<Added> {
  const src = await stageForAdd(work, pkg);
  const r = await serialAdd(() => store.add(src, { name: pkg.name, version: pkg.version }));
  await fsp.rm(src, { recursive: true, force: true });
  return { pkg, id: r.id, ref: `${pkg.name}@${pkg.version}` };
}

/** The tree a prefix holding exactly these packages must have (shared directories merge). */
export function expectedTree(pkgs: readonly PyPackage[]): FixtureTree {
  const out: FixtureTree = new Map();
  for (const p of pkgs) {
    for (const [rel, node] of p.tree) {
      const prev = out.get(rel);
      if (prev && !(prev.type === 'dir' && node.type === 'dir'))
        throw new Error(`fixture conflict at ${rel}`);
      out.set(rel, node);
    }
  }
  return out;
}

/** One line per path: type, exec bit, sha256 of the bytes or the symlink target. Sorted. */
export function listing(tree: FixtureTree): string[] {
  return [...tree]
    .map(([rel, n]) => {
      if (n.type === 'dir') return `${rel}/ dir`;
      if (n.type === 'symlink') return `${rel} -> ${n.target}`;
      return `${rel} ${n.exec ? 'x' : '-'} ${n.data.length} ${sha256Hex(n.data)}`;
    })
    .sort();
}

/** The listing of a prefix holding exactly these packages. */
export function expectedListing(pkgs: readonly PyPackage[]): string[] {
  return listing(expectedTree(pkgs));
}

export interface ReadTreeOptions {
  /** top-level names to leave out (`.pstore` for an inplace prefix) */
  exclude?: readonly string[];
  /** leave out __pycache__ directories and what is in them */
  skipPycache?: boolean;
}

/** What is really on disk under `root` (lstat, never following symlinks), in the same shape. */
export async function readTree(root: string, opts: ReadTreeOptions = {}): Promise<FixtureTree> {
  const out: FixtureTree = new Map();
  const exclude = new Set(opts.exclude ?? []);
  const skip = (name: string, parent: string) =>
    (parent === '' && exclude.has(name)) || (opts.skipPycache === true && name === '__pycache__');
  for (const { rel, abs, st } of await walkTree(root, skip)) {
    if (st.isDirectory()) out.set(rel, { type: 'dir' });
    else if (st.isSymbolicLink())
      out.set(rel, { type: 'symlink', target: await fsp.readlink(abs) });
    else if (st.isFile())
      out.set(rel, { type: 'file', exec: (st.mode & 0o111) !== 0, data: await fsp.readFile(abs) });
    else throw new Error(`readTree: ${abs} is not a file, directory or symlink`);
  }
  return out;
}

/** The listing of a prefix's tree as pstore should have left it (state dir and bytecode left out). */
export async function prefixListing(dir: string): Promise<string[]> {
  const root = await fsp.realpath(dir);
  return listing(await readTree(root, { exclude: ['.pstore'], skipPycache: true }));
}

/** The prefix's tree is exactly these packages' (checked against the fixtures, not pstore). */
export async function assertHolds(
  t: ExecutionContext,
  prefix: string,
  pkgs: readonly PyPackage[],
  what?: string,
): Promise<void> {
  t.deepEqual(await prefixListing(prefix), expectedListing(pkgs), what);
}

/** Every name under `root` that starts with `.pstore-` (temp and trash names), except the state dir. */
export async function pstoreLeftovers(root: string): Promise<string[]> {
  const entries = await walkTree(root, (name, parent) => parent === '' && name === '.pstore');
  return entries
    .map((e) => e.rel)
    .filter((rel) => path.posix.basename(rel).startsWith('.pstore-'))
    .sort();
}

/**
 * The standard cast: four packages in three versions. alpha ships alpha.pth (sorts after its
 * .dist-info), gamma ships _gamma_hook.pth (sorts before it), so neither placement nor removal
 * order of marker units can be right by accident of names. delta is bigger.
 */
export const CAST = ['alpha', 'beta', 'gamma', 'delta'] as const;
export type CastName = (typeof CAST)[number];
export const VERSIONS = ['1.0', '2.0', '3.0'] as const;

export function castPackage(name: CastName, version: string, bulk = 40): PyPackage {
  const pth = name === 'alpha' ? true : name === 'gamma' ? '_gamma_hook.pth' : false;
  return pyPackage(name, version, { pth, ...(name === 'delta' ? { bulk } : {}) });
}

/** A store holding cast packages, added through the library once per test file. */
export interface CastStore {
  /** the temporary folder holding the store (remove it after the file's tests) */
  root: string;
  store: string;
  /** the added package `name@version`; throws for one that was not added */
  get(ref: string): Added;
  /** the fixture packages of these refs (each as `get` finds it) */
  pkgs(refs: Iterable<string>): PyPackage[];
}

/** The packages most transaction suites start from (alpha in three versions, beta in two, gamma). */
export const CAST_PACKAGES = [
  'alpha@1.0',
  'alpha@2.0',
  'alpha@3.0',
  'beta@1.0',
  'beta@2.0',
  'gamma@1.0',
] as const;

/** Add the cast packages `refs` (`name@version`) to a new store below a temporary folder. */
export async function castStore(label: string, refs: readonly string[]): Promise<CastStore> {
  const root = await makeTemp(label);
  const store = path.join(root, 'store');
  const opened = openStore({ path: store });
  const added = new Map<string, Added>();
  for (const ref of refs) {
    const [name, version] = ref.split('@') as [CastName, string];
    const a = await addWithStore(opened, root, castPackage(name, version));
    added.set(a.ref, a);
  }
  const get = (ref: string): Added => {
    const a = added.get(ref);
    if (!a) throw new Error(`fixture ${ref} was not added`);
    return a;
  };
  return { root, store, get, pkgs: (refs) => [...refs].map((ref) => get(ref).pkg) };
}
