// What a transaction checks about its plan before the journal, beside the prefix check (check.ts),
// so that a refusal changes nothing: no path in the store's subtree (exit 3), every path placeable
// by Linux (exit 7), every object to link intact (exit 4; hashed with `verify`).

import type { PrefixPaths } from '../prefix/layout.js';
import { treeDir } from '../prefix/layout.js';
import { storeInsidePrefix } from '../prefix/overlap.js';
import type { StoreContext } from '../store/context.js';
import { refuseDamagedObjects, type ObjectCheckOptions } from './object-check.js';
import { refuseUnplaceable } from './path-room.js';
import { createdPaths, touchedPaths } from './plan-paths.js';
import type { Plan, PlanPackage } from './plan.js';
import { refuseStoreTouch } from './store-guard.js';

export async function preflight(
  ctx: StoreContext,
  p: PrefixPaths,
  plan: Plan,
  to: readonly PlanPackage[],
  opts: ObjectCheckOptions,
): Promise<void> {
  // The paths by what the plan does to them are listed only when the store lies in the prefix.
  const storeRel = await storeInsidePrefix(p, ctx.root);
  if (storeRel !== undefined) refuseStoreTouch(p.dir, storeRel, touchedPaths(plan));
  // A generations tree's number is not known yet: assume the longest one.
  const root = p.layout === 'inplace' ? p.dir : treeDir(p, Number.MAX_SAFE_INTEGER);
  refuseUnplaceable(root, createdPaths(plan), p.dir); // what it removes exists already
  plan.objectPaths = await refuseDamagedObjects(ctx.layout, plan, to, opts);
}
