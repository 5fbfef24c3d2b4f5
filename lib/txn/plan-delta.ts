// The plan of a transaction from the ownership index (SPEC.md §Ownership index): the same Plan
// planTransaction computes from every manifest of both sets, computed from the delta alone — the
// paths of the packages that change and the marker units they touch. planTransaction stays the
// oracle: test/txn/ownership-plan.test.ts checks the two agree over random sets and changes.

import type { ManifestFile } from '../core/types.js';
import type { OwnershipDelta } from './ownership/delta.js';
import type { OwnerEntry } from './ownership/entry.js';
import { emptyPlan, finishPlan, planMarkers, planPath, type Plan } from './plan.js';

export function planDelta(d: OwnershipDelta): Plan {
  const owned = new Map<string, ManifestFile>();
  for (const [rel, e] of d.after) owned.set(rel, e.file);
  const plan = emptyPlan(d.removed.length === 0 && d.added.length === 0, owned);
  const unitFiles = filesByUnit(d.after);
  planMarkers(
    plan,
    d.units,
    (unit) => d.before.has(unit),
    (unit) => (d.after.has(unit) ? (unitFiles.get(unit) ?? []) : undefined),
  );
  for (const rel of d.touched) {
    const old = d.before.get(rel);
    const now = d.after.get(rel);
    if ((old ?? now)?.unit === undefined) planPath(plan, rel, old?.file, now?.file);
  }
  return finishPlan(plan);
}

/** The files of every marker unit after the change, in one pass (each entry knows its unit). */
function filesByUnit(after: ReadonlyMap<string, OwnerEntry>): Map<string, ManifestFile[]> {
  const byUnit = new Map<string, ManifestFile[]>();
  for (const e of after.values()) {
    if (e.unit === undefined) continue;
    const files = byUnit.get(e.unit);
    if (files) files.push(e.file);
    else byUnit.set(e.unit, [e.file]);
  }
  return byUnit;
}
