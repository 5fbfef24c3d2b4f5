// Questions about what a prefix holds, answered from its generation records and the manifests of
// the entries they name (never by walking the prefix): which active package owns a path (`owner`,
// like dpkg -S / pacman -Qo) and what changed between two generations (`diff`).

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { ManifestFile } from '../core/types.js';
import type { PackageRef } from '../core/package-ref.js';
import { compareVersions } from '../core/version.js';
import { PstoreError } from '../core/errors.js';
import { splitRef } from '../core/ref.js';
import { readManifestFile } from '../store/manifests.js';
import type { StoreLayout } from '../store/layout.js';
import { realpathDeepest, relativeWithin } from './overlap.js';

/** Which active packages own one queried path. */
export interface PathOwners {
  /** the path as it was asked for */
  path: string;
  /** the path relative to the prefix, or undefined when it lies outside the prefix */
  relative: string | undefined;
  /** every active package whose manifest lists the path (a shared directory has several) */
  owners: PackageRef[];
}

/**
 * Owners of each queried path. Each active manifest is read once and its paths are looked up in
 * the set of queried ones, so the cost is one pass over the active manifests however many paths
 * are asked about (a 100k-file prefix is read once, not once per path).
 */
export async function findOwners(
  layout: StoreLayout,
  prefixDir: string,
  packages: readonly PackageRef[],
  queries: readonly string[],
): Promise<PathOwners[]> {
  const bases = await prefixBases(prefixDir);
  const results = await Promise.all(
    queries.map(async (q) => ({
      path: q,
      relative: await prefixRelative(bases, q),
      owners: [] as PackageRef[],
    })),
  );
  const byPath = new Map<string, PathOwners[]>();
  for (const r of results)
    if (r.relative !== undefined) byPath.set(r.relative, [...(byPath.get(r.relative) ?? []), r]);
  for (const pkg of packages) {
    const manifest = await readManifestFile(layout, pkg.id);
    for (const f of manifest.files) for (const r of byPath.get(f.path) ?? []) r.owners.push(pkg);
  }
  return results;
}

/** The prefix as named and as resolved: a generations prefix is a symlink to its current tree. */
async function prefixBases(dir: string): Promise<string[]> {
  const real = await fsp.realpath(dir).catch(() => dir);
  return real === dir ? [dir] : [dir, real];
}

/**
 * A query path relative to the prefix. Relative paths are the prefix's own; an absolute one must
 * lie inside the prefix, as written or with the symlinks above its last component resolved (the
 * last is kept: a package's symlink is owned as the link, not as its target).
 */
async function prefixRelative(
  bases: readonly string[],
  query: string,
): Promise<string | undefined> {
  if (!path.isAbsolute(query)) return cleanRelative(path.posix.normalize(query));
  const abs = path.resolve(query);
  const resolved = path.join(await realpathDeepest(path.dirname(abs)), path.basename(abs));
  for (const candidate of [abs, resolved]) {
    for (const base of bases) {
      const rel = relativeWithin(candidate, base);
      if (rel) return rel;
    }
  }
  return undefined;
}

function cleanRelative(rel: string): string | undefined {
  const trimmed = rel.replace(/\/+$/, '');
  return trimmed === '' || trimmed === '.' || trimmed === '..' || trimmed.startsWith('../')
    ? undefined
    : trimmed;
}

/**
 * The active package a ref names: NAME, NAME@VERSION when that version is the active one, or (with
 * `ids`) an entry id prefix (8+ hex digits) of an active entry. Otherwise EPSTORE_NOT_FOUND,
 * saying which version is active when another one is (`data.active`).
 */
export function matchActive(
  active: readonly PackageRef[],
  ref: string,
  opts: { ids?: boolean; where?: string } = {},
): PackageRef {
  const where = opts.where ?? 'this prefix';
  if (opts.ids && /^[0-9a-f]{8,40}$/.test(ref)) {
    const byId = active.find((p) => p.id.startsWith(ref));
    if (byId) return byId;
  }
  const { name, version } = splitRef(ref);
  const named = active.filter((p) => p.name === name);
  const match = named.find((p) => version === undefined || p.version === version);
  if (match) return match;
  const activeNote = named.length
    ? ` (${named.map((p) => `${p.name}@${p.version}`).join(', ')} ${named.length === 1 ? 'is' : 'are'})`
    : '';
  throw new PstoreError('EPSTORE_NOT_FOUND', `${ref} is not active in ${where}${activeNote}`, {
    subject: ref,
    ...(named.length ? { data: { active: named } } : {}),
  });
}

/** One package name whose entry differs between two package sets. */
export interface VersionChange {
  /** the package name */
  name: string;
  /** the entry in the older set */
  from: PackageRef;
  /** the entry in the newer set */
  to: PackageRef;
}

/** File-level differences between two package sets: paths relative to the prefix, sorted. */
export interface FileChanges {
  /** paths only the newer set ships */
  added: string[];
  /** paths only the older set ships */
  removed: string[];
  /** paths in both sets whose type, content, exec bit or link target differ */
  changed: string[];
}

/** Package-level differences between two package sets, by name. */
export interface PackageChanges {
  /** names only the newer set has */
  added: PackageRef[];
  /** names only the older set has */
  removed: PackageRef[];
  /** names whose version went up (versions compared as dpkg does) */
  upgraded: VersionChange[];
  /** names whose version went down */
  downgraded: VersionChange[];
  /** same name and version, different content (another entry id) */
  changed: VersionChange[];
}

/** How the package set `to` differs from `from`, by name; versions compared as dpkg does. */
export function diffPackages(
  from: readonly PackageRef[],
  to: readonly PackageRef[],
): PackageChanges {
  const before = new Map(from.map((p) => [p.name, p]));
  const after = new Map(to.map((p) => [p.name, p]));
  const out: PackageChanges = { added: [], removed: [], upgraded: [], downgraded: [], changed: [] };
  for (const p of to) if (!before.has(p.name)) out.added.push(p);
  for (const p of from) if (!after.has(p.name)) out.removed.push(p);
  for (const p of to) {
    const old = before.get(p.name);
    if (!old || old.id === p.id) continue;
    const order = compareVersions(p.version, old.version);
    const change = { name: p.name, from: old, to: p };
    (order > 0 ? out.upgraded : order < 0 ? out.downgraded : out.changed).push(change);
  }
  return out;
}

/** Path-level difference between the union of two package sets' manifests. */
export async function diffFiles(
  layout: StoreLayout,
  from: readonly PackageRef[],
  to: readonly PackageRef[],
): Promise<FileChanges> {
  const manifests = new Map<string, Promise<ManifestFile[]>>();
  const filesOf = (id: string) => {
    if (!manifests.has(id))
      manifests.set(
        id,
        readManifestFile(layout, id).then((m) => m.files),
      );
    return manifests.get(id)!;
  };
  const before = await pathSignatures(from, filesOf);
  const after = await pathSignatures(to, filesOf);
  const sorted = (xs: string[]) => xs.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    added: sorted([...after.keys()].filter((p) => !before.has(p))),
    removed: sorted([...before.keys()].filter((p) => !after.has(p))),
    changed: sorted(
      [...after].filter(([p, sig]) => before.has(p) && before.get(p) !== sig).map(([p]) => p),
    ),
  };
}

async function pathSignatures(
  pkgs: readonly PackageRef[],
  filesOf: (id: string) => Promise<ManifestFile[]>,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const p of pkgs) for (const f of await filesOf(p.id)) out.set(f.path, signature(f));
  return out;
}

/** What a path is, as far as a prefix tree can tell: two paths with equal signatures look the same. */
function signature(f: ManifestFile): string {
  if (f.type === 'dir') return 'dir';
  if (f.type === 'symlink') return `symlink:${f.target}`;
  return `file:${f.exec ? 'x' : '-'}:${f.integrity}`;
}
