// Look at what a prefix really holds for the paths its current generation owns: used by
// `verify --prefix` (compare with the manifests) and by the tree digest (SPEC.md §Tree digest).

import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import pMap from 'p-map';
import { comparePaths } from '../core/manifest.js';
import type { ManifestFile } from '../core/types.js';
import { TEMP_PREFIX } from '../core/names.js';

/**
 * ssri, loaded on the first file observed: this module is part of the prefix methods every
 * transaction loads (lib/api/prefix-methods.ts), which must not compile ssri and its streams.
 */
let ssriModule: Promise<typeof import('ssri')> | undefined;
const loadSsri = () => (ssriModule ??= import('ssri').then((m) => m.default));

export type Observed =
  ManifestFile | { path: string; type: 'missing' } | { path: string; type: 'other' };

export async function observe(root: string, rel: string): Promise<Observed> {
  const abs = path.join(root, rel);
  const st = await fsp.lstat(abs).catch(() => undefined);
  if (!st) return { path: rel, type: 'missing' };
  if (st.isDirectory()) return { path: rel, type: 'dir' };
  if (st.isSymbolicLink()) return { path: rel, type: 'symlink', target: await fsp.readlink(abs) };
  if (!st.isFile()) return { path: rel, type: 'other' };
  const ssri = await loadSsri();
  const integrity = await ssri.fromStream(createReadStream(abs), { algorithms: ['sha512'] });
  return {
    path: rel,
    type: 'file',
    exec: (st.mode & 0o111) !== 0,
    size: st.size,
    integrity: integrity.toString(),
  };
}

/** What is on disk for each owned path, handed to `visit` as read (in no order), none kept. */
export async function observeEach(
  root: string,
  owned: Iterable<string>,
  visit: (o: Observed) => void,
): Promise<void> {
  await pMap(owned, async (rel) => visit(await observe(root, rel)), { concurrency: 16 });
}

/** What is on disk for each owned path, in path order. */
export async function observeTree(root: string, owned: Iterable<string>): Promise<Observed[]> {
  const paths = [...owned].sort(comparePaths);
  return pMap(paths, (rel) => observe(root, rel), { concurrency: 16 });
}

/** The digest of a tree: paths, types, exec bits, content hashes and symlink targets; nothing else. */
export function treeDigest(files: readonly Observed[]): string {
  const h = createHash('sha512');
  for (const f of [...files].sort((a, b) => comparePaths(a.path, b.path))) {
    const detail =
      f.type === 'file'
        ? `${f.exec ? 'x' : '-'}\t${f.integrity}`
        : f.type === 'symlink'
          ? f.target
          : '';
    h.update(`${f.path}\0${f.type}\0${detail}\n`);
  }
  return `sha512-${h.digest('base64')}`;
}

/** Temp or trash names pstore left in the given directories. */
export async function findStrays(root: string, dirs: Iterable<string>): Promise<string[]> {
  const out: string[] = [];
  for (const rel of dirs) {
    const names = await fsp.readdir(path.join(root, rel)).catch(() => [] as string[]);
    for (const n of names)
      if (n.startsWith(`${TEMP_PREFIX}tmp-`) || n.startsWith(`${TEMP_PREFIX}trash-`))
        out.push(rel ? `${rel}/${n}` : n);
  }
  return out;
}
