// What a transaction needs to know about a prefix, and no more: the index's entries at the paths
// of the packages it removes and adds, and at every path of a marker unit those packages touch
// (a unit is placed whole), before and after the change. Conflicts with packages that stay are
// found here, against the index, as planTransaction finds them against every manifest.

import type { PackageRef } from '../../core/package-ref.js';
import type { ManifestFile } from '../../core/types.js';
import { sameFile, shippedTwice, type PlanPackage } from '../plan.js';
import { addOwner, removeOwner, unitsOf, type OwnerEntry } from './entry.js';

export interface OwnershipDelta {
  removed: PlanPackage[];
  added: PlanPackage[];
  /** the paths of the removed and added packages, sorted */
  touched: string[];
  /** the marker units holding any touched path */
  units: Set<string>;
  /** entries before and after at the touched paths and at every path of a touched unit */
  before: Map<string, OwnerEntry>;
  after: Map<string, OwnerEntry>;
}

/** Packages whose name changes id between the sets: the old ones go, the new ones come. */
export function changedPackages(
  from: readonly PackageRef[],
  to: readonly PackageRef[],
): { removed: PackageRef[]; added: PackageRef[] } {
  const idsBefore = new Map(from.map((p) => [p.name, p.id]));
  const idsAfter = new Map(to.map((p) => [p.name, p.id]));
  return {
    removed: from.filter((p) => idsAfter.get(p.name) !== p.id),
    added: to.filter((p) => idsBefore.get(p.name) !== p.id),
  };
}

/** Where a delta's entries come from: the index on disk (db.ts), or a map in tests. */
export interface EntrySource {
  get(paths: readonly string[]): Promise<Map<string, OwnerEntry>>;
  below(rel: string): Promise<Map<string, OwnerEntry>>;
}

/** The entries of an index that describes no package: a new or emptied prefix has nothing to look up. */
export const NO_ENTRIES: EntrySource = {
  get: () => Promise.resolve(new Map()),
  below: () => Promise.resolve(new Map()),
};

export async function loadDelta(
  db: EntrySource,
  removed: PlanPackage[],
  added: PlanPackage[],
  globs: readonly string[],
  /** the unit of every path of `added` in a unit, found with `globs`, when the caller has them */
  unitOf?: ReadonlyMap<string, string>,
): Promise<OwnershipDelta> {
  const touched = touchedBy([...removed, ...added]);
  const before = shareFiles(await db.get(touched), [...removed, ...added]);
  const units = new Set<string>();
  for (const e of before.values()) if (e.unit !== undefined) units.add(e.unit);
  const unitMaps = new Map(added.map((p) => [p, unitOf ?? unitsOf(p, globs)]));
  if (!unitOf) for (const m of unitMaps.values()) for (const unit of m.values()) units.add(unit);
  // A shared map holds other packages' paths too: the units of the added packages' own.
  else for (const p of added) for (const f of p.manifest.files) addUnit(units, unitOf.get(f.path));
  for (const unit of units) for (const [rel, e] of await db.below(unit)) before.set(rel, e);
  const after = applyChange(before, removed, added, globs, unitMaps);
  return { removed, added, touched, units, before, after };
}

function addUnit(units: Set<string>, unit: string | undefined): void {
  if (unit !== undefined) units.add(unit);
}

/**
 * Entries read back from the index repeat what the changed packages' manifests hold: pointed at
 * the manifests' records, a 100k-path change holds each path and integrity once, not twice.
 */
function shareFiles(
  entries: Map<string, OwnerEntry>,
  pkgs: readonly PlanPackage[],
): Map<string, OwnerEntry> {
  if (entries.size === 0) return entries; // an empty index's: nothing to point
  for (const p of pkgs)
    for (const f of p.manifest.files) {
      const e = entries.get(f.path);
      if (e && sameFile(e.file, f) && sizeOf(e.file) === sizeOf(f)) e.file = f;
    }
  return entries;
}

const sizeOf = (f: ManifestFile) => (f.type === 'file' ? f.size : undefined);

/** The paths of the changed packages, sorted, once each. */
function touchedBy(pkgs: readonly PlanPackage[]): string[] {
  // One manifest lists its paths sorted and once each (SPEC.md §Manifest): nothing to merge.
  if (pkgs.length === 1) return pkgs[0]!.manifest.files.map((f) => f.path);
  return [...new Set(pkgs.flatMap((p) => p.manifest.files.map((f) => f.path)))].sort();
}

/** The entries after removing and adding packages; EPSTORE_CONFLICT as planTransaction's. */
export function applyChange(
  before: ReadonlyMap<string, OwnerEntry>,
  removed: readonly PlanPackage[],
  added: readonly PlanPackage[],
  globs: readonly string[],
  /** each added package's units, when the caller has them already */
  unitMaps?: ReadonlyMap<PlanPackage, ReadonlyMap<string, string>>,
): Map<string, OwnerEntry> {
  const after = new Map(before);
  for (const p of removed) removeOwner(after, p);
  for (const p of added) {
    for (const f of p.manifest.files) {
      const e = after.get(f.path);
      if (e && !(e.file.type === 'dir' && f.type === 'dir'))
        throw shippedTwice(f.path, e.owners[0]!, p.ref.name);
    }
    addOwner(after, p, unitMaps?.get(p) ?? unitsOf(p, globs));
  }
  return after;
}

/** The same change, undone: what a failed transaction's revert applies. */
export function reverseDelta(d: OwnershipDelta): OwnershipDelta {
  return { ...d, removed: d.added, added: d.removed, before: d.after, after: d.before };
}

/**
 * The index writes of a delta: every path it knows, its entry after (undefined: gone). Yielded,
 * not collected: the batch takes them one by one.
 */
export function* deltaWrites(d: OwnershipDelta): Generator<[string, OwnerEntry | undefined]> {
  for (const rel of d.before.keys()) if (!d.after.has(rel)) yield [rel, undefined];
  yield* d.after;
}

/**
 * The directories a delta's batch need not read: one it adds that nobody owned before. It was
 * looked up (an added package lists it), and an index holds a directory's record only while the
 * directory is owned, since every manifest lists each ancestor of its paths.
 */
export function deltaHasNoRecord(d: OwnershipDelta): (dir: string) => boolean {
  return (dir) => dir !== '' && d.after.has(dir) && !d.before.has(dir);
}

/**
 * The paths the index says the old set owns, as far as the prefix check asks: the touched paths,
 * and everything below a directory the plan replaces whole (an obstacle).
 */
export async function ownedBefore(
  db: EntrySource,
  d: OwnershipDelta,
  obstacles: readonly string[],
): Promise<Set<string>> {
  const owned = new Set(d.before.keys());
  for (const rel of obstacles)
    if (d.before.get(rel)?.file.type === 'dir')
      for (const below of (await db.below(rel)).keys()) owned.add(below);
  return owned;
}
