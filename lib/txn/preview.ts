// A dry run (`--dry-run`): the transaction's target, plan and checks, computed as the real run
// computes them, and nothing changed — no prefix created, no registration, no journal, no recovery.
// The prefix lock is held shared while the tree is checked (a writer cannot change it meanwhile);
// every conflict is collected, not only the first.

import { PstoreError } from '../core/errors.js';
import { acquireLock } from '../fs/lock.js';
import type { PrefixPaths } from '../prefix/layout.js';
import { prefixToOpen, refuseOccupiedSymlinkPlace, requireSameStore } from '../prefix/open.js';
import { diffPackages } from '../prefix/query.js';
import {
  listGenerationNumbers,
  readCurrent,
  readCurrentGeneration,
  type CurrentRecord,
  type GenerationRecord,
} from '../prefix/state.js';
import { requireCompleteTree } from '../prefix/trees.js';
import type { StoreContext } from '../store/context.js';
import { checkTakingOver } from './overwrite.js';
import { resolveGoal, type Target, type TargetContext } from './goal.js';
import { readJournal, type TxnKind } from './journal.js';
import { difference, loadPlanSides, ownedPaths, sameSet } from './packages.js';
import { planTransaction, type Plan } from './plan.js';
import { packagesToCheck, refuseUnlinkableObjects } from './object-check.js';
import { preflight } from './preflight.js';
import { hintReplace } from './replace-hint.js';
import type { PlanCounts, PlanPreview, TxnOptions, TxnResult } from './txn-types.js';

export async function previewTransaction(
  ctx: StoreContext,
  dir: string,
  kind: TxnKind,
  target: (t: TargetContext) => Promise<Target>,
  opts: TxnOptions,
): Promise<TxnResult & { plan: PlanPreview }> {
  const create = kind === 'activate' || kind === 'sync';
  const { paths: p, found } = await prefixToOpen(dir, { ...opts, storeRoot: ctx.root, create });
  if (!found) {
    if (p.layout === 'generations') await refuseOccupiedSymlinkPlace(p.dir);
    const empty = { formatVersion: 1 as const, generation: 0, highest: 0 };
    return previewFrom(ctx, p, kind, target, opts, empty, { packages: [] });
  }
  await requireSameStore(p.dir, found.record, ctx.root);
  await using _lock = await acquireLock(p.lock, {
    mode: 'shared',
    waitMs: ctx.waitMs,
    what: `prefix ${p.dir}`,
    onWait: () => ctx.onWait?.(`waiting for another pstore process to finish with ${p.dir}`),
  });
  // The real run would recover first, and what that leaves cannot be known without doing it.
  if (await readJournal(p))
    throw new PstoreError(
      'EPSTORE_BUSY',
      `${p.dir} has an interrupted transaction; a dry run cannot tell what recovering it leaves`,
      { subject: p.dir, hint: 'run pstore recover first' },
    );
  const cur = await readCurrent(p);
  const record = await readCurrentGeneration(p, cur);
  return previewFrom(ctx, p, kind, target, opts, cur, record);
}

/** What the preview reads of the committed generation: its set; its tree hard-linked whole? */
type CommittedRecord = Pick<GenerationRecord, 'packages' | 'hardLinked'>;

async function previewFrom(
  ctx: StoreContext,
  p: PrefixPaths,
  kind: TxnKind,
  target: (t: TargetContext) => Promise<Target>,
  opts: TxnOptions,
  cur: CurrentRecord,
  committed: CommittedRecord,
): Promise<TxnResult & { plan: PlanPreview }> {
  const current = committed.packages;
  const goal = await resolveGoal(ctx, p, kind, target, { current, generation: cur.generation });
  const noop = goal.existingGeneration === undefined && sameSet(current, goal.packages);
  const generation = noop
    ? cur.generation
    : (goal.existingGeneration ??
      Math.max(cur.highest, cur.generation, ...(await listGenerationNumbers(p))) + 1);
  const conflicts: PstoreError[] = [];
  const taken: string[] = [];
  const plan = noop
    ? undefined
    : await checkedPlan(ctx, p, committed, goal, opts, conflicts, taken);
  return {
    prefix: p.dir,
    layout: p.layout,
    generation,
    previousGeneration: cur.generation,
    activated: difference(goal.packages, current),
    deactivated: difference(current, goal.packages),
    noop,
    link: opts.link ?? 'auto',
    plan: {
      ...diffPackages(current, goal.packages),
      files: countPlan(plan),
      conflicts: conflicts.map((c) => c.toJSON()),
      ...(opts.overwrite?.length ? { overwrite: taken } : {}),
    },
  };
}

/**
 * The plan of what the prefix shows now → the target (for a generations prefix the real run
 * builds a whole tree, but what a reader sees change is this), under the real run's checks.
 */
async function checkedPlan(
  ctx: StoreContext,
  p: PrefixPaths,
  committed: CommittedRecord,
  goal: Target,
  opts: TxnOptions,
  conflicts: PstoreError[],
  taken: string[],
): Promise<Plan> {
  const current = committed.packages;
  const collect = (err: PstoreError) => void conflicts.push(err);
  if (p.layout === 'generations' && goal.existingGeneration !== undefined)
    await requireCompleteTree(p, goal.existingGeneration);
  const { from, to } = await loadPlanSides(ctx, current, goal.packages);
  const plan = planTransaction(from, to, hintReplace(current, goal.packages, collect));
  if (p.layout === 'generations') {
    if (goal.existingGeneration === undefined) {
      // The run builds the tree from every target manifest and tolerates no damaged one (run.ts):
      // one the plan above passed over (kept, damaged) fails here as it fails there.
      const whole =
        to.length === goal.packages.length ? to : (await loadPlanSides(ctx, [], goal.packages)).to;
      const only = packagesToCheck(whole, committed);
      const tree = planTransaction([], whole, () => {});
      await preflight(ctx, p, tree, whole, { ...opts, only });
      // What the run's links find of the kept objects (apply-generations.ts).
      if (only && opts.verify !== true) refuseUnlinkableObjects(ctx.layout, tree, whole);
    }
    return plan;
  }
  await preflight(ctx, p, plan, to, opts);
  const owned = new Set(ownedPaths(from).keys());
  taken.push(...(await checkTakingOver(p.dir, plan, owned, opts.overwrite, collect)));
  return plan;
}

function countPlan(plan: Plan | undefined): PlanCounts {
  const replaced = plan?.place.filter((x) => x.replace).length ?? 0;
  return {
    place: (plan?.place.length ?? 0) - replaced,
    replace: replaced,
    remove: plan?.remove.length ?? 0,
    mkdirs: plan?.mkdirs.length ?? 0,
    rmdirs: plan?.rmdirs.length ?? 0,
    markersRemoved: plan?.removeMarkers.length ?? 0,
    markersPlaced: plan?.placeMarkers.length ?? 0,
  };
}
