// Package sets: the manifests behind PackageRefs, and set comparison.

import { PstoreError, isPstoreError } from '../errors.js';
import type { PackageRef } from '../prefix/state.js';
import type { StoreContext } from '../store/context.js';
import { readManifestFile } from '../store/manifests.js';
import type { EntryRecord, ManifestFile } from '../types.js';
import type { PlanPackage } from './plan.js';

export function toPackageRef(e: Pick<EntryRecord, 'name' | 'version' | 'id'>): PackageRef {
  return { name: e.name, version: e.version, id: e.id };
}

export async function loadPackages(ctx: StoreContext, refs: readonly PackageRef[]): Promise<PlanPackage[]> {
  return Promise.all(refs.map(async (ref) => {
    try {
      return { ref, manifest: await readManifestFile(ctx.layout, ref.id) };
    } catch (err) {
      if (isPstoreError(err, 'EPSTORE_INTEGRITY') && err.data?.reason === 'missing') {
        throw new PstoreError('EPSTORE_NOT_FOUND', `entry ${ref.name}@${ref.version} (${ref.id}) is not in the store ${ctx.root}`, { subject: `${ref.name}@${ref.version}`, cause: err });
      }
      throw err;
    }
  }));
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
