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

/** 3: one record per directory (record.ts); an index of another format is rebuilt. */
export const INDEX_FORMAT = 3;

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
  // Entries are replaced, never changed in place: the package's paths can share one owners array.
  const alone = [p.ref.name];
  for (const file of p.manifest.files) {
    const e = entries.get(file.path);
    if (e) entries.set(file.path, { ...e, owners: [...e.owners, p.ref.name].sort() });
    else {
      const unit = units.get(file.path);
      entries.set(
        file.path,
        unit === undefined ? { file, owners: alone } : { file, owners: alone, unit },
      );
    }
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
