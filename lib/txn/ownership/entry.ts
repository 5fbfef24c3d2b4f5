// The ownership index's records (SPEC.md §Ownership index), derived from manifests and nothing
// else: path → owner entry, and one meta record naming the package set the entries describe.
// Pure: no IO, so the same derivation serves the rebuild, the catch-up and the property test.

import { createHash } from 'node:crypto';
import * as v from 'valibot';
import { markerMatcher, markerUnits } from '../../core/markers.js';
import { PackageRefSchema, type PackageRef } from '../../core/package-ref.js';
import { GenerationNumberSchema } from '../../prefix/state.js';
import type { ManifestFile } from '../../core/types.js';
import type { PlanPackage } from '../plan.js';

export interface OwnerEntry {
  /** what the manifest lists at this path (a shared directory: any owner's record, all alike) */
  file: ManifestFile;
  /** names of the packages that ship the path, sorted: one, or several for a shared directory */
  owners: string[];
  /** the marker unit the path belongs to (SPEC.md §Markers), absent for a plain path */
  unit?: string;
}

/** 2: NUL-delimited entry values (encodeEntry); an index of another format is rebuilt. */
export const INDEX_FORMAT = 2;

const IndexedPackageSchema = v.object({
  ...PackageRefSchema.entries,
  markers: v.array(v.string()),
});

export const IndexMetaSchema = v.object({
  formatVersion: v.literal(INDEX_FORMAT),
  generation: GenerationNumberSchema,
  /** setDigest() of the packages: what a transaction compares with the committed generation */
  digest: v.string(),
  packages: v.array(IndexedPackageSchema),
});

export type IndexMeta = v.InferOutput<typeof IndexMetaSchema>;
export type IndexedPackage = v.InferOutput<typeof IndexedPackageSchema>;

/** A digest of a package set, independent of order: sha256 over the sorted ids. */
export function setDigest(refs: readonly Pick<PackageRef, 'id'>[]): string {
  const ids = refs.map((r) => r.id).sort();
  return createHash('sha256').update(ids.join('\n')).digest('hex');
}

export function indexMeta(generation: number, pkgs: readonly IndexedPackage[]): IndexMeta {
  const packages = [...pkgs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { formatVersion: INDEX_FORMAT, generation, digest: setDigest(packages), packages };
}

export function indexedPackage(p: PlanPackage): IndexedPackage {
  return { ...p.ref, markers: [...p.manifest.markers] };
}

/** The marker globs of a set beyond the defaults: the union of every entry's own, sorted. */
export function globsOf(pkgs: readonly { markers: readonly string[] }[]): string[] {
  return [...new Set(pkgs.flatMap((p) => p.markers))].sort();
}

/**
 * The unit of every path of one manifest. Every manifest lists each ancestor of its paths (§4.1),
 * so a path's unit depends only on the path and the set's globs, not on the other packages.
 */
export function unitsOf(p: PlanPackage, globs: readonly string[]): Map<string, string> {
  return markerUnits(
    p.manifest.files.map((f) => f.path),
    markerMatcher(globs),
  );
}

/** Add one package's paths to entries (shared directories gain an owner). */
export function addOwner(
  entries: Map<string, OwnerEntry>,
  p: PlanPackage,
  units: ReadonlyMap<string, string>,
): void {
  for (const file of p.manifest.files) {
    const e = entries.get(file.path);
    if (e) entries.set(file.path, { ...e, owners: [...e.owners, p.ref.name].sort() });
    else entries.set(file.path, withUnit({ file, owners: [p.ref.name] }, units.get(file.path)));
  }
}

/** Remove one package's paths from entries; a path nobody ships any more is deleted. */
export function removeOwner(entries: Map<string, OwnerEntry>, p: PlanPackage): void {
  for (const file of p.manifest.files) {
    const e = entries.get(file.path);
    if (!e) continue;
    const owners = e.owners.filter((o) => o !== p.ref.name);
    if (owners.length) entries.set(file.path, { ...e, owners });
    else entries.delete(file.path);
  }
}

function withUnit(e: OwnerEntry, unit: string | undefined): OwnerEntry {
  return unit === undefined ? e : { ...e, unit };
}

/** Every entry of a package set, from its manifests: what a rebuild writes and verify compares. */
export function deriveEntries(pkgs: readonly PlanPackage[]): Map<string, OwnerEntry> {
  const globs = globsOf(pkgs.map((p) => p.manifest));
  const entries = new Map<string, OwnerEntry>();
  for (const p of pkgs) addOwner(entries, p, unitsOf(p, globs));
  return entries;
}

export function sameEntry(a: OwnerEntry, b: OwnerEntry): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(e: OwnerEntry): unknown[] {
  const f = e.file;
  const what =
    f.type === 'file' ? [f.integrity, f.exec, f.size] : f.type === 'symlink' ? [f.target] : [];
  return [f.path, f.type, ...what, e.owners, e.unit ?? null];
}

/**
 * A stored entry's value (formatVersion 2): fields joined by NUL, which no path, name, target or
 * integrity can hold, so no JSON is built or parsed per key. `type \0 unit \0 what… \0 owners…`,
 * with type `f` (what: integrity, `x` or empty for the exec bit, size), `d` (nothing) or `l`
 * (what: the target); unit empty for a plain path. The path is the key's, not repeated.
 */
export function encodeEntry(e: OwnerEntry): string {
  const f = e.file;
  const head = `${e.unit ?? ''}\0`;
  const owners = e.owners.join('\0');
  if (f.type === 'file')
    return `f\0${head}${f.integrity}\0${f.exec ? 'x' : ''}\0${f.size}\0${owners}`;
  if (f.type === 'symlink') return `l\0${head}${f.target}\0${owners}`;
  return `d\0${head}${owners}`;
}

/** A stored entry, checked: anything else is a damaged index (undefined), rebuilt by the caller. */
export function parseEntry(value: unknown, path: string): OwnerEntry | undefined {
  if (typeof value !== 'string') return undefined;
  const [type, unit, ...rest] = value.split('\0');
  const file = fileOf(type, rest, path);
  if (!file || unit === undefined) return undefined;
  const owners = rest.slice(WHAT_FIELDS[file.type]);
  if (owners.length === 0 || owners.some((o) => o === '')) return undefined;
  return unit === '' ? { file, owners } : { file, owners, unit };
}

const WHAT_FIELDS = { file: 3, symlink: 1, dir: 0 } as const;

function fileOf(type: string | undefined, what: string[], path: string): ManifestFile | undefined {
  if (type === 'd') return { path, type: 'dir' };
  if (type === 'l' && what[0]) return { path, type: 'symlink', target: what[0] };
  if (type !== 'f') return undefined;
  const [integrity, exec, size] = what;
  if (!integrity || (exec !== 'x' && exec !== '') || !size || !/^\d+$/.test(size)) return undefined;
  return { path, type: 'file', integrity, exec: exec === 'x', size: Number(size) };
}
