// planTransaction: a pure diff from the package set a prefix has to the set it should have
// (SPEC.md §Plan). No IO: callers pass manifests in and apply the plan elsewhere.
// Every path belongs to at most one package (directories may be shared). Paths inside marker units
// are kept out of the file steps: they are removed first and placed last, unit by unit.

import { PstoreError } from '../core/errors.js';
import { ancestors as ancestorsOf } from '../core/safe-path.js';
import { markerMatcher, markerRank, markerUnits } from '../core/markers.js';
import type { PackageRef } from '../core/package-ref.js';
import type { Manifest, ManifestFile } from '../core/types.js';

export interface PlanPackage {
  ref: PackageRef;
  manifest: Manifest;
}

export type PlacedFile = Exclude<ManifestFile, { type: 'dir' }>;

export interface MarkerUnit {
  path: string;
  /** the unit root first, then its descendants in path order */
  files: ManifestFile[];
}

/**
 * Where the object of each `plan.place` file lives, by index (undefined for a symlink): worked out
 * once by the object check (object-check.ts) and used again by the apply (place.ts), so a placed
 * file costs one object path, not two.
 */
export type ObjectPaths = Array<string | undefined>;

export interface Plan {
  noop: boolean;
  /** (a) marker units present before that the change touches */
  removeMarkers: string[];
  /** .py modules leaving or replaced: their __pycache__/*.pyc go too */
  pycacheFor: string[];
  /** .py modules arriving: bytecode already beside them goes too, where their directory existed */
  newModules: string[];
  /** (b) paths whose type changes: what is there goes before the new thing is placed */
  obstacles: string[];
  mkdirs: string[];
  place: Array<{ file: PlacedFile; replace: boolean }>;
  /** (c) files and symlinks no package owns any more */
  remove: string[];
  /** directories no package owns any more, deepest first; removed only when empty */
  rmdirs: string[];
  /** (e) marker units to place, each built whole and renamed into place */
  placeMarkers: MarkerUnit[];
  /**
   * every path the target set owns (planTransaction); a plan from the ownership index holds only
   * the target's entries at the paths the change touches (plan-delta.ts)
   */
  owned: ReadonlyMap<string, ManifestFile>;
  /** set by the object check (preflight); a plan applied without it (recovery) works them out */
  objectPaths?: ObjectPaths;
  /** the target side's marker units (planTransaction): the ownership index's catch-up reuses them */
  targetUnits?: TargetUnits;
}

/** The unit of every path of a set's packages that lies in a marker unit, found with `globs`. */
export interface TargetUnits {
  /** the packages (ids) whose paths `of` covers */
  ids: ReadonlySet<string>;
  globs: readonly string[];
  of: ReadonlyMap<string, string>;
}

interface Side {
  /** every path's marker unit, with the set's globs */
  unitOf: Map<string, string>;
  globs: string[];
  /** non-marker paths → file */
  plain: Map<string, ManifestFile>;
  /** marker unit → its files, owners */
  units: Map<string, { files: ManifestFile[]; owners: Set<string> }>;
  owned: Map<string, ManifestFile>;
}

/** Where a conflict goes: thrown by default; a dry run collects every one and plans on. */
export type ConflictSink = (err: PstoreError) => void;

export const throwConflict: ConflictSink = (err) => {
  throw err;
};

function collectSide(pkgs: readonly PlanPackage[], onConflict: ConflictSink): Side {
  // Marker units are found with every entry's globs: a unit is placed whole, so it must hold
  // every package's files below it, not just those of the glob's owner. Every manifest lists each
  // ancestor of its paths (§Manifest), so a path's unit depends on the path and the globs alone:
  // each manifest in its own order gives it, with no sorted union of the set (a sort of 100k
  // paths measured ~70 ms of a generations plan).
  const globs = [...new Set(pkgs.flatMap((p) => p.manifest.markers))].sort();
  const isMarker = markerMatcher(globs);
  const units = new Map<string, string>();
  const side: Side = { unitOf: units, globs, plain: new Map(), units: new Map(), owned: new Map() };
  for (const p of pkgs)
    markerUnits(
      p.manifest.files.map((f) => f.path),
      isMarker,
      units,
    );
  for (const [i, { ref, manifest }] of pkgs.entries()) {
    for (const f of manifest.files) {
      const prev = side.owned.get(f.path);
      if (prev && !(prev.type === 'dir' && f.type === 'dir')) {
        // Collected (dry run): the first owner keeps the path and the plan goes on.
        onConflict(shippedTwice(f.path, holderOf(pkgs, i, f.path), ref.name));
        continue;
      }
      side.owned.set(f.path, f);
      const unit = units.get(f.path);
      if (unit === undefined) {
        side.plain.set(f.path, f);
      } else {
        let u = side.units.get(unit);
        if (!u) side.units.set(unit, (u = { files: [], owners: new Set() }));
        if (!u.files.some((g) => g.path === f.path)) u.files.push(f);
        u.owners.add(ref.name);
      }
    }
  }
  return side;
}

/**
 * Who holds `path` when package `before` of the set conflicts on it: its first shipper, or the
 * last one sharing it as a directory. Worked out only on a conflict, so the loop keeps no owner
 * per path.
 */
function holderOf(pkgs: readonly PlanPackage[], before: number, path: string): string {
  let holder: { name: string; type: ManifestFile['type'] } | undefined;
  for (const { ref, manifest } of pkgs.slice(0, before)) {
    const f = manifest.files.find((g) => g.path === path);
    if (f && (!holder || (holder.type === 'dir' && f.type === 'dir')))
      holder = { name: ref.name, type: f.type };
  }
  return holder!.name;
}

/** Two packages of one set ship the same path (not both as a directory). */
export function shippedTwice(path: string, first: string, second: string): PstoreError {
  return new PstoreError(
    'EPSTORE_CONFLICT',
    `path ${path} is shipped by both ${first} and ${second}`,
    {
      subject: path,
      data: { path, owners: [first, second] },
    },
  );
}

export function sameFile(a: ManifestFile, b: ManifestFile): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 'file' && b.type === 'file')
    return a.integrity === b.integrity && a.exec === b.exec;
  if (a.type === 'symlink' && b.type === 'symlink') return a.target === b.target;
  return true;
}

export function planTransaction(
  from: readonly PlanPackage[],
  to: readonly PlanPackage[],
  onConflict: ConflictSink = throwConflict,
): Plan {
  const before = collectSide(from, onConflict);
  const after = collectSide(to, onConflict);
  const idsBefore = new Map(from.map((p) => [p.ref.name, p.ref.id]));
  const idsAfter = new Map(to.map((p) => [p.ref.name, p.ref.id]));
  const changed = new Set<string>();
  for (const [name, id] of idsBefore) if (idsAfter.get(name) !== id) changed.add(name);
  for (const [name, id] of idsAfter) if (idsBefore.get(name) !== id) changed.add(name);

  const plan = emptyPlan(changed.size === 0, after.owned);
  const touches = (owners: Set<string>) => [...owners].some((o) => changed.has(o));
  const touched = new Set<string>();
  for (const [unit, u] of before.units) if (touches(u.owners)) touched.add(unit);
  for (const [unit, u] of after.units) if (touches(u.owners)) touched.add(unit);
  planMarkers(
    plan,
    touched,
    (u) => before.units.has(u),
    (u) => after.units.get(u)?.files,
  );

  for (const [path, file] of after.plain) planPath(plan, path, before.plain.get(path), file);
  for (const [path, file] of before.plain)
    if (!after.owned.has(path)) planPath(plan, path, file, undefined);
  plan.targetUnits = {
    ids: new Set(to.map((p) => p.ref.id)),
    globs: after.globs,
    of: after.unitOf,
  };
  return finishPlan(plan);
}

export function emptyPlan(noop: boolean, owned: ReadonlyMap<string, ManifestFile>): Plan {
  return {
    noop,
    removeMarkers: [],
    pycacheFor: [],
    newModules: [],
    obstacles: [],
    mkdirs: [],
    place: [],
    remove: [],
    rmdirs: [],
    placeMarkers: [],
    owned,
  };
}

/**
 * The marker steps for the touched units: removed if present before (declaring first), placed
 * whole if present after (supporting first; markers.ts markerRank).
 */
export function planMarkers(
  plan: Plan,
  touched: ReadonlySet<string>,
  presentBefore: (unit: string) => boolean,
  filesAfter: (unit: string) => readonly ManifestFile[] | undefined,
): void {
  const byRank = (rank: (u: string) => number) => (a: string, b: string) =>
    rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
  for (const unit of [...touched].filter(presentBefore).sort(byRank((u) => -markerRank(u))))
    plan.removeMarkers.push(unit);
  for (const unit of [...touched].sort(byRank(markerRank))) {
    const files = filesAfter(unit);
    if (files)
      plan.placeMarkers.push({
        path: unit,
        files: [...files].sort((a, b) => (a.path < b.path ? -1 : 1)),
      });
  }
}

/** The steps for one plain path, from what the old set has there to what the new set has. */
export function planPath(
  plan: Plan,
  path: string,
  old: ManifestFile | undefined,
  file: ManifestFile | undefined,
): void {
  if (!file) {
    if (!old) return;
    if (old.type === 'dir') plan.rmdirs.push(path);
    else {
      plan.remove.push(path);
      if (path.endsWith('.py')) plan.pycacheFor.push(path);
    }
    return;
  }
  if (old && sameFile(old, file)) return;
  if (old && old.type !== file.type) plan.obstacles.push(path);
  if (file.type === 'dir') {
    if (!old || old.type !== 'dir') plan.mkdirs.push(path);
  } else {
    plan.place.push({ file, replace: old !== undefined });
    if (path.endsWith('.py')) (old ? plan.pycacheFor : plan.newModules).push(path);
  }
}

/** Drop what lies below obstacles, order the directory steps. */
export function finishPlan(plan: Plan): Plan {
  // What lay below a path whose type changes went with it in step (b). Removing it again in step (c)
  // would resolve through whatever stands there now: a symlink, possibly leading out of the prefix.
  if (plan.obstacles.length) {
    const gone = new Set(plan.obstacles);
    const below = (p: string) => ancestorsOf(p).some((a) => gone.has(a));
    plan.remove = plan.remove.filter((p) => !below(p));
    plan.rmdirs = plan.rmdirs.filter((p) => !below(p));
    plan.pycacheFor = plan.pycacheFor.filter((p) => !below(p));
  }
  plan.mkdirs.sort();
  plan.rmdirs.sort().reverse();
  return plan;
}
