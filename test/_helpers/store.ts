// Looking inside a store directory without pstore's code: objects, manifests, what is referenced.
// Paths follow the store layout: objects-v1/<2 hex>/<rest of sha512 hex>[-x], entries-v1/<2>/<rest>.json.

import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { openStore } from '../../lib/index.js';
import { describe, jsonOut, storeCli } from './cli.js';
import { buildTar } from './tar.js';
import { tempDir } from './tmp.js';
import type { Described } from './tree.js';
import { sizeFor } from './torture.js';

export interface ObjectFile {
  key: string;
  file: string;
  mode: number;
  size: number;
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return (await fsp.readdir(dir)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

export async function objectFiles(store: string): Promise<ObjectFile[]> {
  const root = path.join(store, 'objects-v1');
  const out: ObjectFile[] = [];
  for (const shard of await readdirOrEmpty(root)) {
    for (const name of await readdirOrEmpty(path.join(root, shard))) {
      const file = path.join(root, shard, name);
      const st = await fsp.lstat(file);
      out.push({ key: shard + name, file, mode: st.mode & 0o7777, size: st.size });
    }
  }
  return out;
}

/** What is left in the store's `tmp/`, its per-thread temp directories (`t<N>/`) looked into. */
export async function tmpFiles(store: string): Promise<string[]> {
  const tmp = path.join(store, 'tmp');
  const left: string[] = [];
  for (const name of await readdirOrEmpty(tmp)) {
    if (!/^t\d+$/.test(name)) left.push(name);
    else for (const n of await readdirOrEmpty(path.join(tmp, name))) left.push(`${name}/${n}`);
  }
  return left;
}

export function hexOfIntegrity(integrity: string): string {
  if (!integrity.startsWith('sha512-')) throw new Error(`not a sha512 integrity: ${integrity}`);
  return Buffer.from(integrity.slice('sha512-'.length), 'base64').toString('hex');
}

export function objectKeyOf(f: { integrity: string; exec: boolean }): string {
  return hexOfIntegrity(f.integrity) + (f.exec ? '-x' : '');
}

export function objectPathOf(store: string, f: { integrity: string; exec: boolean }): string {
  const key = objectKeyOf(f);
  return path.join(store, 'objects-v1', key.slice(0, 2), key.slice(2));
}

export function manifestPathOf(store: string, id: string): string {
  return path.join(store, 'entries-v1', id.slice(0, 2), `${id.slice(2)}.json`);
}

/** Damage an object (or any read-only file) in place: one bit of byte `at` flipped, size and mode kept. */
export async function flipByte(file: string, at = 0): Promise<void> {
  const mode = (await fsp.stat(file)).mode & 0o7777;
  await fsp.chmod(file, mode | 0o200);
  const fh = await fsp.open(file, 'r+');
  try {
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, at);
    b[0] = b[0]! ^ 0x01;
    await fh.write(b, 0, 1, at);
  } finally {
    await fh.close();
  }
  await fsp.chmod(file, mode); // keep the mode: only the bytes are damaged
}

export interface RawManifest {
  formatVersion: number;
  name: string;
  version: string;
  markers: string[];
  files: Array<{
    path: string;
    type: string;
    exec?: boolean;
    size?: number;
    integrity?: string;
    target?: string;
  }>;
}

/** Every manifest file in entries-v1/, parsed, by entry id. */
export async function manifestFiles(store: string): Promise<Map<string, RawManifest>> {
  const root = path.join(store, 'entries-v1');
  const out = new Map<string, RawManifest>();
  for (const shard of await readdirOrEmpty(root)) {
    for (const name of await readdirOrEmpty(path.join(root, shard))) {
      if (!name.endsWith('.json') || name.startsWith('.')) continue;
      out.set(
        shard + name.slice(0, -5),
        JSON.parse(await fsp.readFile(path.join(root, shard, name), 'utf8')) as RawManifest,
      );
    }
  }
  return out;
}

/** Object keys the manifests on disk refer to. */
export async function referencedKeys(store: string): Promise<Set<string>> {
  const keys = new Set<string>();
  for (const m of (await manifestFiles(store)).values()) {
    for (const f of m.files)
      if (f.type === 'file') keys.add(objectKeyOf({ integrity: f.integrity!, exec: f.exec! }));
  }
  return keys;
}

export interface ListedEntry {
  id: string;
  name: string;
  version: string;
  files: number;
  seq: number;
  markers: string[];
}

export async function lsJson(t: ExecutionContext, store: string): Promise<ListedEntry[]> {
  // an add killed before it made the store leaves none: `ls` then says so (exit 6); it lists nothing
  if (!(await fsp.stat(store).catch(() => undefined))) return [];
  const r = await storeCli(store)(['ls', '--json']);
  t.is(r.code, 0, describe(r));
  return jsonOut<ListedEntry[]>(r);
}

/**
 * The ids of the entries the store lists, through the library (what `ls` runs: the same reconcile
 * of manifests the index lacks); none when there is no store. For checks after the command under
 * test; `ls`'s own CLI contract is cli/ls's and the others that spawn `lsJson`.
 */
export async function listedIds(store: string): Promise<string[]> {
  const opened = openStore({ path: store });
  if (!(await opened.exists())) return [];
  return (await opened.list()).map((e) => e.id);
}

/**
 * The store is complete and holds nothing extra: it exists, verifies clean, tmp/ is empty, the
 * objects are exactly those the manifests refer to, every manifest is listed and vice versa.
 * Through the library (what `pstore verify` and `ls` run): this checks a store's state after the
 * command under test; the CLI contracts of `verify` and `ls` have their own tests.
 */
export async function assertCleanStore(t: ExecutionContext, store: string): Promise<void> {
  const opened = openStore({ path: store });
  t.true(await opened.exists(), `a store at ${store}`);
  const v = await opened.verify();
  t.true(v.ok, `verify: ${JSON.stringify(v.problems)}`);
  t.deepEqual(await tmpFiles(store), [], 'tmp/ is empty');
  const have = (await objectFiles(store)).map((o) => o.key).sort();
  const want = [...(await referencedKeys(store))].sort();
  t.deepEqual(have, want, 'objects-v1 holds exactly the referenced objects');
  const listed = (await opened.list()).map((e) => e.id).sort();
  t.deepEqual(
    listed,
    [...(await manifestFiles(store)).keys()].sort(),
    'ls lists exactly the manifests on disk',
  );
}

type DescribedFile =
  | { path: string; type: 'file'; exec: boolean; size: number; integrity: string }
  | { path: string; type: 'dir' }
  | { path: string; type: 'symlink'; target: string };

/**
 * The canonical manifest bytes as the format defines them, computed here without pstore's code:
 * fixed key order, no whitespace, files sorted by the UTF-8 bytes of their path, markers sorted and
 * de-duplicated.
 */
export function canonicalManifest(
  name: string,
  version: string,
  markers: readonly string[],
  files: readonly DescribedFile[],
): string {
  const cmp = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
  return JSON.stringify({
    formatVersion: 1,
    name,
    version,
    markers: [...new Set(markers)].sort(cmp),
    files: [...files]
      .sort((a, b) => cmp(a.path, b.path))
      .map((f) =>
        f.type === 'file'
          ? { path: f.path, type: f.type, exec: f.exec, size: f.size, integrity: f.integrity }
          : f.type === 'dir'
            ? { path: f.path, type: f.type }
            : { path: f.path, type: f.type, target: f.target },
      ),
  });
}

/** The entry id: the first 40 hex digits of the sha512 of the canonical manifest. */
export function entryIdOf(canonical: string): string {
  return createHash('sha512').update(canonical).digest('hex').slice(0, 40);
}

export function expectedEntryId(
  name: string,
  version: string,
  markers: readonly string[],
  files: readonly DescribedFile[],
): string {
  return entryIdOf(canonicalManifest(name, version, markers, files));
}

/**
 * A temp dir with `store/` and `prefix/` paths, the CLI on that store, and `ok(args)`: run it and
 * assert exit 0 (the setup most CLI tests start from).
 */
export async function storeWorkspace(t: ExecutionContext, tag: string) {
  const dir = await tempDir(t, tag);
  const store = path.join(dir, 'store');
  const prefix = path.join(dir, 'prefix');
  const cli = storeCli(store);
  const ok = async (args: string[]) => {
    const r = await cli(args);
    t.is(r.code, 0, describe(r));
    return r;
  };
  return { dir, store, prefix, cli, ok };
}

/** `pstore add SOURCE --name NAME --version 1`, then the paths `info NAME@1 --paths` lists. */
export async function addAndListPaths(
  t: ExecutionContext,
  store: string,
  source: string,
  name: string,
): Promise<Described[]> {
  const cli = storeCli(store);
  const add = await cli(['add', source, '--name', name, '--version', '1', '--json']);
  t.is(add.code, 0, describe(add));
  const info = await cli(['info', `${name}@1`, '--paths', '--json']);
  t.is(info.code, 0, describe(info));
  return jsonOut<{ paths: Described[] }>(info).paths;
}

/**
 * The big package's size: 100k files with PSTORE_TORTURE=1, 20k in the default run (the same code
 * paths at a fifth of the CPU), in 200 directories d0..d199.
 */
export const BIG_FILES = sizeFor(20_000, 100_000);
/** The big package's last file, in its last directory. */
export const BIG_LAST = `d199/f${BIG_FILES - 1}`;

/**
 * `big@1` (100,000 empty files, 500 a directory) added through `add -` and activated into
 * `prefix`: the large prefix the owner queries are tried on.
 */
export async function activateBigPackage(
  t: ExecutionContext,
  cli: ReturnType<typeof storeCli>,
  prefix: string,
): Promise<void> {
  const members = [];
  for (let i = 0; i < BIG_FILES; i++)
    members.push({
      path: `d${Math.floor(i / (BIG_FILES / 200))}/f${i}`,
      type: 'file' as const,
      data: '',
    });
  const added = await cli(['add', '-', '--name', 'big', '--version', '1', '--quiet'], {
    input: buildTar(members),
    timeoutMs: 240_000,
  });
  t.is(added.code, 0, describe(added));
  const activated = await cli(['activate', 'big', '--prefix', prefix, '--quiet'], {
    timeoutMs: 300_000,
  });
  t.is(activated.code, 0, describe(activated));
}
