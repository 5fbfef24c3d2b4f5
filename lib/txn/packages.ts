// Package sets: the manifests behind PackageRefs, and set comparison.

import { PstoreError, isPstoreError } from '../core/errors.js';
import type { PackageRef } from '../core/package-ref.js';
import type { StoreContext } from '../store/context.js';
import { readManifestFile } from '../store/manifests.js';
import type { EntryRecord, Manifest, ManifestFile } from '../core/types.js';
import { repairHint } from './object-check.js';
import type { PlanPackage } from './plan.js';

export function toPackageRef(e: Pick<EntryRecord, 'name' | 'version' | 'id'>): PackageRef {
  return { name: e.name, version: e.version, id: e.id };
}

export async function loadPackages(
  ctx: StoreContext,
  refs: readonly PackageRef[],
): Promise<PlanPackage[]> {
  return Promise.all(refs.map(async (ref) => ({ ref, manifest: await loadManifest(ctx, ref) })));
}

/**
 * Both sides of a plan. A package on both sides (same id: unchanged) whose manifest is missing or
 * damaged is left out of both: the plan then does not know its paths, and the prefix check refuses
 * to create, replace or remove unowned paths, so nothing of it is touched — while a damaged
 * manifest of one package does not block deactivating or upgrading another. Operations that need
 * the manifest (changing that package, a generations rebuild) still fail, naming it.
 */
export async function loadPlanSides(
  ctx: StoreContext,
  fromRefs: readonly PackageRef[],
  toRefs: readonly PackageRef[],
): Promise<{ from: PlanPackage[]; to: PlanPackage[] }> {
  const unchanged = new Set(
    toRefs.filter((t) => fromRefs.some((f) => f.id === t.id)).map((t) => t.id),
  );
  const loaded = new Map<string, Promise<PlanPackage | undefined>>();
  const load = (ref: PackageRef) => {
    let m = loaded.get(ref.id);
    if (!m) {
      m = readManifestFile(ctx.layout, ref.id).then(
        (manifest) => ({ ref, manifest }),
        (err: unknown) => {
          if (unchanged.has(ref.id) && isPstoreError(err, 'EPSTORE_INTEGRITY')) return undefined;
          throw entryError(ctx, ref, err);
        },
      );
      loaded.set(ref.id, m);
    }
    return m;
  };
  const side = async (refs: readonly PackageRef[]) =>
    (await Promise.all(refs.map(load))).flatMap((p) => (p ? [p] : []));
  const [from, to] = await Promise.all([side(fromRefs), side(toRefs)]);
  return { from, to };
}

async function loadManifest(ctx: StoreContext, ref: PackageRef): Promise<Manifest> {
  try {
    return await readManifestFile(ctx.layout, ref.id);
  } catch (err) {
    throw entryError(ctx, ref, err);
  }
}

/** A manifest read failure, restated for the entry that needs it, with how to repair it. */
function entryError(ctx: StoreContext, ref: PackageRef, err: unknown): unknown {
  if (!isPstoreError(err, 'EPSTORE_INTEGRITY')) return err;
  const entry = `${ref.name}@${ref.version}`;
  const hint = repairHint(entry);
  if (err.data?.reason === 'missing') {
    return new PstoreError(
      'EPSTORE_NOT_FOUND',
      `entry ${entry} (${ref.id}) is not in the store ${ctx.root}`,
      { subject: entry, hint, cause: err },
    );
  }
  return new PstoreError(
    'EPSTORE_INTEGRITY',
    `the manifest of ${entry} (${ref.id}) is damaged in the store ${ctx.root}: ${err.message}`,
    {
      subject: entry,
      hint,
      cause: err,
      data: { reason: 'corrupt', entry: ref },
    },
  );
}

export function sameSet(a: readonly PackageRef[], b: readonly PackageRef[]): boolean {
  if (a.length !== b.length) return false;
  const ids = new Set(a.map((p) => p.id));
  return b.every((p) => ids.has(p.id));
}

/** Packages in `b` whose id is not in `a`. */
export function difference(b: readonly PackageRef[], a: readonly PackageRef[]): PackageRef[] {
  const ids = new Set(a.map((p) => p.id));
  return b.filter((p) => !ids.has(p.id));
}

export function ownedPaths(pkgs: readonly PlanPackage[]): Map<string, ManifestFile> {
  const out = new Map<string, ManifestFile>();
  for (const p of pkgs) for (const f of p.manifest.files) out.set(f.path, f);
  return out;
}
