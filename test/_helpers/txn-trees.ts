// Staged package trees for transaction tests, and an independent listing of what a prefix holds.
//
// Packages look like Debian-packaged Python distributions and deliberately share directories, so
// that transactions merge into (and remove from) directories other packages also use:
//
//   usr/bin/toolN                                               executable
//   usr/lib/python3/dist-packages/shared_ns/pkgN/__init__.py    shared_ns/ is a namespace package
//   usr/lib/python3/dist-packages/shared_ns/pkgN/core.py
//   usr/lib/python3/dist-packages/shared_ns/pkgN/sub/util.py
//   usr/lib/python3/dist-packages/pkgN-1.0.dist-info/{METADATA,RECORD,INSTALLER}   the marker unit
//   usr/share/doc/pkgN/{README,copyright}                       copyright: same bytes in every package
//
// Nothing here uses pstore's code: listings are computed with lstat/readFile/readlink only.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { openStore } from '../../lib/index.js';
import { describe, jsonOut, storeCli, type CliResult } from './cli.js';
import { makeTemp, removeTree, tempDir } from './tmp.js';
import { recordRow, serialAdd, SITE } from './prefix-fixtures.js';
import { buildTree, file, sha256Hex, walkTree, type TreeSpec } from './tree.js';

export { SITE } from './prefix-fixtures.js';

/** The same bytes in every package and every version: one store object, many prefix paths. */
export const SHARED_COPYRIGHT = 'Copyright: the pstore test suite\nLicense: MIT\n';

export interface PkgOptions {
  /** default '1.0'; changes the contents of the version-dependent files */
  version?: string;
  /** extra paths (relative to the package root) merged into the spec */
  extra?: TreeSpec;
  /** leave out the dist-info marker unit */
  noMarker?: boolean;
}

export function pkgName(i: number): string {
  return `pkg${i}`;
}

/** The tree spec of package `name` (files in shared directories, a dist-info marker unit). */
export function pkgSpec(name: string, opts: PkgOptions = {}): TreeSpec {
  const version = opts.version ?? '1.0';
  const mod = `${SITE}/shared_ns/${name}`;
  const files: Record<string, string | ReturnType<typeof file>> = {
    [`usr/bin/tool-${name}`]: file(`#!/bin/sh\necho ${name} ${version}\n`, 0o755),
    [`${mod}/__init__.py`]: `"""${name}"""\n__version__ = ${JSON.stringify(version)}\n`,
    [`${mod}/core.py`]: `def hello():\n    return ${JSON.stringify(`${name} ${version}`)}\n`,
    [`${mod}/sub/__init__.py`]: '',
    [`${mod}/sub/util.py`]: `NAME = ${JSON.stringify(name)}\n`,
    [`usr/share/doc/${name}/README`]: `${name} ${version}\n`,
    [`usr/share/doc/${name}/copyright`]: SHARED_COPYRIGHT,
  };
  const spec: TreeSpec = { ...files };
  if (!opts.noMarker) {
    const distInfo = `${SITE}/${name}-${version}.dist-info`;
    const record = Object.entries(files)
      .map(([p, node]) => {
        const data = Buffer.from(typeof node === 'string' ? node : node.content);
        return recordRow(path.posix.relative(SITE, p), data);
      })
      .concat([
        `${name}-${version}.dist-info/METADATA,,`,
        `${name}-${version}.dist-info/RECORD,,`,
        `${name}-${version}.dist-info/INSTALLER,,`,
      ])
      .join('\n');
    spec[`${distInfo}/METADATA`] = `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n`;
    spec[`${distInfo}/RECORD`] = `${record}\n`;
    spec[`${distInfo}/INSTALLER`] = 'pstore\n';
  }
  return { ...spec, ...(opts.extra ?? {}) };
}

export interface StagedPkg {
  name: string;
  version: string;
  /** the staged directory */
  dir: string;
}

/** Stage package `name` under `root/name-version/`. */
export async function stagePkg(
  root: string,
  name: string,
  opts: PkgOptions = {},
): Promise<StagedPkg> {
  const version = opts.version ?? '1.0';
  const dir = path.join(root, `${name}-${version}`);
  await buildTree(dir, pkgSpec(name, opts));
  return { name, version, dir };
}

/** Stage `count` packages pkg0..pkg{count-1} that share directories. */
export async function stagePkgs(
  root: string,
  count: number,
  opts: PkgOptions = {},
): Promise<StagedPkg[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => stagePkg(root, pkgName(i), opts)));
}

/**
 * Add each staged package through the library (one add at a time in this process: see
 * serialAdd), returning the entry ids by `name@version`. Setup, not the contract under test:
 * `pstore add` has its own tests, and a CLI start per package made this the bulk of the gc and
 * prefix suites' time.
 */
export async function addPkgs(
  store: string,
  pkgs: readonly StagedPkg[],
): Promise<Map<string, string>> {
  const opened = openStore({ path: store });
  const ids = new Map<string, string>();
  for (const p of pkgs) {
    const added = await serialAdd(() => opened.add(p.dir, { name: p.name, version: p.version }));
    ids.set(`${p.name}@${p.version}`, added.id);
  }
  return ids;
}

/** One line per path: `dir`, `file <x|-> <size> <sha256>`, `symlink -> <target>`, `other`. */
/** Stage pkg0..pkg{count-1} and add them once to a store that tests copy (remove `root` after). */
export async function makeTemplateStore(
  label: string,
  count: number,
): Promise<{ root: string; store: string; pkgs: StagedPkg[] }> {
  const root = await makeTemp(label);
  const store = path.join(root, 'store');
  const pkgs = await stagePkgs(path.join(root, 'src'), count);
  await addPkgs(store, pkgs);
  return { root, store, pkgs };
}

export type Listing = Record<string, string>;

export interface ListOptions {
  /** leave out names starting with `.pstore` at every level, not only at the top (default: top only) */
  allPstoreNames?: boolean;
}

/**
 * Everything under `root` (lstat, never following symlinks below the root; the root itself is
 * resolved, so a `generations` prefix lists its current tree), excluding pstore's own state:
 * top-level names starting with `.pstore`.
 */
export async function listTree(root: string, opts: ListOptions = {}): Promise<Listing> {
  const skip = (name: string, parent: string) =>
    name.startsWith('.pstore') && (parent === '' || opts.allPstoreNames === true);
  const out: Listing = {};
  for (const { rel, abs, st } of await walkTree(await fsp.realpath(root), skip)) {
    if (st.isDirectory()) out[rel] = 'dir';
    else if (st.isSymbolicLink()) out[rel] = `symlink -> ${await fsp.readlink(abs)}`;
    else if (st.isFile())
      out[rel] =
        `file ${st.mode & 0o111 ? 'x' : '-'} ${st.size} ${sha256Hex(await fsp.readFile(abs))}`;
    else out[rel] = 'other';
  }
  return out;
}

/** The listing a prefix must have with exactly these packages active: the union of their trees. */
export async function unionOf(pkgs: readonly StagedPkg[]): Promise<Listing> {
  const out: Listing = {};
  for (const p of pkgs) {
    for (const [rel, what] of Object.entries(await listTree(p.dir))) {
      if (rel in out && out[rel] !== what)
        throw new Error(`unionOf: ${rel} differs between packages`);
      out[rel] = what;
    }
  }
  return sorted(out);
}

export function sorted(l: Listing): Listing {
  return Object.fromEntries(Object.entries(l).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Split a listing into what is under a `__pycache__` directory (Python's bytecode) and the rest. */
export function splitPycache(l: Listing): { plain: Listing; pycache: Listing } {
  const plain: Listing = {};
  const pycache: Listing = {};
  for (const [k, v] of Object.entries(l)) {
    if (k.split('/').includes('__pycache__')) pycache[k] = v;
    else plain[k] = v;
  }
  return { plain, pycache };
}

/** Everything in pstore's state directory of an inplace prefix (`DIR/.pstore`), with contents. */
export async function stateOf(prefix: string): Promise<Listing> {
  const meta = path.join(prefix, '.pstore');
  try {
    await fsp.lstat(meta);
  } catch {
    return {};
  }
  return listTree(meta);
}

/** Poll `fn` every `everyMs` until it returns true or `timeoutMs` passes (then throws). */
export async function until(
  what: string,
  fn: () => Promise<boolean> | boolean,
  timeoutMs = 30_000,
  everyMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function exists(p: string): Promise<boolean> {
  return fsp.lstat(p).then(
    () => true,
    () => false,
  );
}

/** The parsed `{"error":{...}}` line of a `--json` failure. */
export function jsonError(r: CliResult): {
  code: string;
  message: string;
  subject?: string;
  data?: Record<string, unknown>;
} {
  const line = r.stderr.trim().split('\n').pop() ?? '';
  try {
    return (
      JSON.parse(line) as {
        error: { code: string; message: string; subject?: string; data?: Record<string, unknown> };
      }
    ).error;
  } catch {
    throw new Error(`stderr is not a JSON error:\n${describe(r)}`);
  }
}

export interface StoreCopy {
  dir: string;
  store: string;
  cli: ReturnType<typeof storeCli>;
  /** pkg0..pkg{count-1} as staged (their source trees stay until the test file ends) */
  pkgs: StagedPkg[];
}

/**
 * For a test file: stage and add pkg0..pkg{count-1} once (test.before, removed after), and hand
 * each test a private copy of that store in a fresh temp dir.
 */
export function sharedTemplateStore(
  label: string,
  count: number,
): (t: ExecutionContext, tag?: string) => Promise<StoreCopy> {
  let template: { root: string; store: string; pkgs: StagedPkg[] } | undefined;
  test.before(async () => {
    template = await makeTemplateStore(label, count);
  });
  test.after.always(async () => {
    if (template) await removeTree(template.root);
  });
  return async (t, tag = label) => {
    const dir = await tempDir(t, tag);
    const store = path.join(dir, 'store');
    await fsp.cp(template!.store, store, { recursive: true });
    return { dir, store, cli: storeCli(store), pkgs: template!.pkgs };
  };
}

/**
 * A store copy with a prefix (`prefix` in its temp dir) at generation 1, pkg0 active: activated
 * through the library (setup; `pstore activate` has its own tests in txn/activate).
 */
export async function withPkg0Active(
  t: ExecutionContext,
  copy: StoreCopy,
): Promise<StoreCopy & { prefix: string }> {
  const prefix = path.join(copy.dir, 'prefix');
  const r = await openStore({ path: copy.store }).prefix(prefix).activate(['pkg0']);
  t.is(r.generation, 1);
  return { ...copy, prefix };
}

/**
 * Whether a process holds the writer lock of the inplace prefix at `prefix` (bound the lock's `x`
 * name, lib/fs/lock.ts), as the kernel lists it.
 */
export async function writerLockHeld(prefix: string): Promise<boolean> {
  const st = await fsp.stat(path.join(prefix, '.pstore', 'lock'));
  const x = `@pstore-lock/${st.dev.toString(36)}.${st.ino.toString(36)}/x`;
  return (await fsp.readFile('/proc/net/unix', 'utf8')).includes(x); // padded with @ (NUL)
}

/**
 * The digest (`pstore hash`) of a new prefix at `prefix` holding exactly the entries `refs`, or
 * 'empty' for none: what any prefix of that set must hash to (the digest covers owned paths only).
 */
export async function digestOfSet(
  store: string,
  prefix: string,
  refs: readonly string[],
): Promise<string> {
  if (refs.length === 0) return 'empty';
  const cli = storeCli(store);
  const a = await cli(['activate', ...refs, '--prefix', prefix, '--quiet']);
  if (a.code !== 0) throw new Error(describe(a));
  const h = await cli(['hash', '--prefix', prefix, '--json']);
  if (h.code !== 0) throw new Error(describe(h));
  return jsonOut<{ digest: string }>(h).digest;
}
