// What a transaction has prepared before its journal: the sides of the plan, the plan itself when
// it came from the ownership index, and the index (held open by the caller: HeldOwnership).

import type { PackageRef } from '../core/package-ref.js';
import type { StoreContext } from '../store/context.js';
import type { OwnershipDb, StagedBatch } from './ownership/db.js';
import {
  changedPackages,
  loadDelta,
  NO_ENTRIES,
  reverseDelta,
  type OwnershipDelta,
} from './ownership/delta.js';
import { globsOf } from './ownership/entry.js';
import { packagesAfter, stageOwnership, type CommittedSet } from './ownership/sync.js';
import { loadPackages } from './packages.js';
import { planDelta } from './plan-delta.js';
import type { Plan, PlanPackage } from './plan.js';

export class Prepared {
  /** the packages that leave and come (incremental), or both whole sets (full) */
  from: PlanPackage[] = [];
  to: PlanPackage[] = [];
  /**
   * the plan the checks saw, handed to the apply so that it does not plan again: from the index
   * (incremental), or planTransaction(from, to) of the full sides (a generations tree's included)
   */
  plan: Plan | undefined;
  private delta: OwnershipDelta | undefined;
  /** the index's batch for the goal, being built while the apply runs (stageIndex) */
  private staged: Promise<StagedBatch | undefined> | undefined;

  constructor(readonly index: OwnershipDb | undefined) {}

  incremental(delta: OwnershipDelta, plan: Plan): this {
    this.delta = delta;
    this.from = delta.removed;
    this.to = delta.added;
    this.plan = plan;
    return this;
  }

  /** The plan that undoes an incremental one: needed only when its apply fails. */
  get reverse(): Plan | undefined {
    return this.delta && planDelta(reverseDelta(this.delta));
  }

  full(sides: { from: PlanPackage[]; to: PlanPackage[] }, plan: Plan): this {
    this.from = sides.from;
    this.to = sides.to;
    this.plan = plan;
    return this;
  }

  /**
   * Start building the index's batch for `committed`: the apply calls this where it first waits
   * (ApplyContext.onIdle), so the work fills its waits for the placing worker and the flushes
   * instead of following the commit. Written by commitIndex once the commit is done (which builds
   * it if the apply never waited); discarded with a transaction that fails.
   */
  stageIndex(ctx: StoreContext, committed: CommittedSet): void {
    if (!this.index || this.staged) return;
    const [loaded, units] = this.delta
      ? [[], undefined]
      : [[...this.from, ...this.to], this.plan?.targetUnits];
    const delta = this.delta && withoutFileLists(this.delta);
    // A batch that cannot be built leaves the index behind: the next transaction catches it up.
    this.staged = stageOwnership(ctx, this.index, delta, committed, loaded, units).catch(
      () => undefined,
    );
  }

  /** After commit: the index follows (a failure leaves it behind; the next transaction catches up). */
  async commitIndex(ctx: StoreContext, committed: CommittedSet): Promise<void> {
    this.stageIndex(ctx, committed);
    const batch = await this.takeStaged();
    this.plan = undefined;
    this.from = this.to = [];
    this.delta = undefined;
    await batch?.write().catch(() => {});
  }

  /** A transaction that did not commit: its staged batch is never written (after commitIndex, a no-op). */
  async dropStaged(): Promise<void> {
    await (await this.takeStaged())?.discard().catch(() => {});
  }

  private takeStaged(): Promise<StagedBatch | undefined> {
    const staged = this.staged;
    this.staged = undefined;
    return staged ?? Promise.resolve(undefined);
  }
}

/**
 * The delta from the committed set to the goal, reading only the manifests of the packages that
 * change; undefined when the change alters the set's marker globs (every unit is then recomputed
 * by the full planner).
 */
export async function loadChange(
  ctx: StoreContext,
  db: OwnershipDb,
  current: readonly PackageRef[],
  goal: readonly PackageRef[],
): Promise<OwnershipDelta | undefined> {
  const meta = await db.meta();
  const { removed, added } = changedPackages(current, goal);
  const [r, a] = await Promise.all([loadPackages(ctx, removed), loadPackages(ctx, added)]);
  const globs = globsOf(packagesAfter(meta, removed, a));
  if (globs.join('\0') !== globsOf(meta.packages).join('\0')) return undefined;
  return loadDelta(meta.packages.length ? db : NO_ENTRIES, r, a, globs);
}

/** A delta whose packages keep their ref and markers but no file list (what the index commit reads). */
function withoutFileLists(d: OwnershipDelta): OwnershipDelta {
  const bare = (p: PlanPackage): PlanPackage => ({
    ref: p.ref,
    manifest: { ...p.manifest, files: [] },
  });
  return { ...d, removed: d.removed.map(bare), added: d.added.map(bare), touched: [] };
}
