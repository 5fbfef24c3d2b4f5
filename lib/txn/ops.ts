// Activations and deactivations as data: what `activate`, `deactivate` and `transaction()` ask
// for, applied in order to the current set. Data rather than a closure, so a waiting process can
// send it to the prefix's writer to be served in its group (group.ts).

import { PstoreError } from '../core/errors.js';
import type { PackageRef } from '../core/package-ref.js';
import { matchActive } from '../prefix/query.js';
import type { Target, TargetContext } from './goal.js';

export type Op = { kind: 'activate'; ref: string } | { kind: 'deactivate'; name: string };

/** Activate and deactivate, in the order given: the current set with `ops` applied. */
export async function opsTarget(ops: readonly Op[], t: TargetContext): Promise<Target> {
  let packages = [...t.current];
  const incoming: PackageRef[] = [];
  for (const op of ops) {
    if (op.kind === 'deactivate') {
      // NAME or NAME@VERSION (that version must be the active one): either way the name goes.
      const { name } = matchActive([...packages, ...incoming], op.name);
      packages = packages.filter((p) => p.name !== name);
      incoming.splice(0, incoming.length, ...incoming.filter((p) => p.name !== name));
    } else {
      incoming.push(await t.resolve(op.ref));
    }
  }
  refuseDuplicateNames(incoming);
  const names = new Set(incoming.map((p) => p.name));
  return { packages: [...packages.filter((p) => !names.has(p.name)), ...incoming] };
}

export function refuseDuplicateNames(refs: readonly PackageRef[]): void {
  const seen = new Set<string>();
  for (const r of refs) {
    if (seen.has(r.name))
      throw new PstoreError('EPSTORE_USAGE', `${r.name} is named twice in one transaction`, {
        subject: r.name,
      });
    seen.add(r.name);
  }
}
