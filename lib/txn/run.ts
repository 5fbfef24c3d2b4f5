// One transaction, start to end (SPEC.md §Step order): prefix writer lock → store lock (shared, so
// gc waits) → recover any interrupted transaction → compute the target set → plan (pure) → check
// the prefix → journal (durable) → apply → commit → unlock. Failure before commit reverts.

import { PstoreError } from '../core/errors.js';
import { resolveRef } from '../store/index-entries.js';
import type { IndexDb } from '../store/index-db.js';
import { registerPrefix, unregisterPrefix } from '../store/prefixes.js';
import type { LayoutKind } from '../core/names.js';
import { discardNewPrefix, openPrefixForWrite } from '../prefix/open.js';
import type { PrefixPaths } from '../prefix/layout.js';
import type { PackageRef } from '../core/package-ref.js';
import {
  listGenerationNumbers,
  readCurrent,
  readCurrentGeneration,
  readGeneration,
} from '../prefix/state.js';
import { requireCompleteTree } from '../prefix/trees.js';
import { lockStore, useIndex, type StoreContext } from '../store/context.js';
import { crashpoint, pausepoint } from '../core/crashpoint.js';
import type { ProgressListener } from '../core/types.js';
import { checkPrefix } from './check.js';
import { commitGeneration } from './commit.js';
import { newTxid, readJournal, writeJournal, type Journal, type TxnKind } from './journal.js';
import { createLinker, type LinkMode, type Linker } from './link.js';
import { difference, loadPlanSides, ownedPaths, sameSet, toPackageRef } from './packages.js';
import { planTransaction, type Plan } from './plan.js';
import { planDelta } from './plan-delta.js';
import type { OwnershipDb } from './ownership/db.js';
import { ownedBefore, type OwnershipDelta } from './ownership/delta.js';
import { syncOwnership, type CommittedSet } from './ownership/sync.js';
import { loadChange, Prepared } from './prepared.js';
import { preflight } from './preflight.js';
import { applyJournal, recoverPending, revertJournal } from './recover.js';

export interface TxnOptions {
  link?: LinkMode;
  /** layout for a prefix this transaction creates */
  layout?: LayoutKind;
  onProgress?: ProgressListener;
  /** rehash every object to be linked first, not only check its size */
  verify?: boolean;
}

export interface TxnResult {
  prefix: string;
  layout: LayoutKind;
  generation: number;
  previousGeneration: number;
  activated: PackageRef[];
  deactivated: PackageRef[];
  noop: boolean;
  /** how files were linked: hardlink, reflink or copy (auto when nothing was linked) */
  link: LinkMode;
}

export interface TargetContext {
  current: PackageRef[];
  currentGeneration: number;
  resolve(ref: string): Promise<PackageRef>;
  generation(n: number): Promise<PackageRef[] | undefined>;
}

export interface Target {
  packages: PackageRef[];
  /** set for rollback: the existing generation that becomes current */
  existingGeneration?: number;
}

export async function runTransaction(
  ctx: StoreContext,
  dir: string,
  kind: TxnKind,
  target: (t: TargetContext) => Promise<Target>,
  opts: TxnOptions = {},
): Promise<TxnResult> {
  const opened = await openPrefixForWrite(dir, {
    storeRoot: ctx.root,
    layout: opts.layout,
    create: kind === 'activate' || kind === 'sync',
    waitMs: ctx.waitMs,
    onWait: () => ctx.onWait?.(`waiting for another pstore process to finish with ${dir}`),
  });
  const p = opened.paths;
  try {
    await using _storeLock = await lockStore(ctx, 'shared');
    await recoverPending(ctx, p);
    const cur = await readCurrent(p);
    const current = (await readCurrentGeneration(p, cur)).packages;
    await registerPrefix(ctx.layout, { dir: p.dir, meta: p.meta, layout: p.layout });
    const goal = await resolveGoal(ctx, p, kind, target, { current, generation: cur.generation });
    const result: TxnResult = {
      prefix: p.dir,
      layout: p.layout,
      generation: cur.generation,
      previousGeneration: cur.generation,
      activated: difference(goal.packages, current),
      deactivated: difference(current, goal.packages),
      noop: false,
      link: opts.link ?? 'auto',
    };
    if (goal.existingGeneration === undefined && sameSet(current, goal.packages))
      return { ...result, noop: true };
    await using prep = await planAndCheck(ctx, p, { ...cur, packages: current }, goal, opts);
    const journal = newJournal(kind, p, opts, {
      from: { generation: cur.generation, packages: current },
      to: {
        generation: goal.existingGeneration ?? (await nextGeneration(p, cur)),
        packages: goal.packages,
        newGeneration: goal.existingGeneration === undefined,
      },
    });
    const linker = await applyNew(ctx, p, journal, prep, opts);
    await commitGeneration(p, journal);
    await prep.commitIndex(ctx, journal.to);
    return { ...result, generation: journal.to.generation, link: linker.method };
  } catch (err) {
    // A prefix this transaction created and could not fill is removed again: nothing changed.
    if (opened.created && !(await readJournal(p))) {
      await discardNewPrefix(opened);
      await unregisterPrefix(ctx.layout, p.meta);
    }
    throw err;
  } finally {
    await opened.lock.release();
  }
}

/** The package set the transaction moves to, with refs resolved in one index session. */
async function resolveGoal(
  ctx: StoreContext,
  p: PrefixPaths,
  kind: TxnKind,
  target: (t: TargetContext) => Promise<Target>,
  cur: { current: PackageRef[]; generation: number },
): Promise<Target> {
  const targetCtx = (resolve: TargetContext['resolve']): TargetContext => ({
    current: cur.current,
    currentGeneration: cur.generation,
    resolve,
    generation: async (n) => (await readGeneration(p, n))?.packages,
  });
  // A rollback names a generation, not refs: it needs no index session.
  if (kind === 'rollback')
    return target(
      targetCtx(async (ref) => {
        throw new PstoreError('EPSTORE_INTERNAL', `rollback resolved a ref (${ref})`);
      }),
    );
  return useIndex(ctx, (db: IndexDb) =>
    target(targetCtx(async (ref) => toPackageRef(await resolveRef(db, ref)))),
  );
}

/**
 * Plan and check everything before the journal: a refusal changes nothing. An inplace prefix with
 * an ownership index plans from the packages that change alone (plan-delta.ts); otherwise both
 * sides' manifests are read in full.
 */
async function planAndCheck(
  ctx: StoreContext,
  p: PrefixPaths,
  committed: CommittedSet,
  goal: Target,
  opts: TxnOptions,
): Promise<Prepared> {
  // Switching a generations prefix back to an existing tree is one symlink swap: no manifests,
  // no plan, so its cost does not grow with the prefix (the tree was checked when it was built).
  // A new generations tree is built from nothing: the old set's manifests are not needed either.
  const index = await syncOwnership(ctx, p, committed);
  const prepared = new Prepared(index);
  if (p.layout === 'generations' && goal.existingGeneration !== undefined) {
    await requireCompleteTree(p, goal.existingGeneration); // never switch to a partial tree
    return prepared;
  }
  const delta =
    index && p.layout === 'inplace'
      ? await loadChange(ctx, index, committed.packages, goal.packages)
      : undefined;
  if (delta) return prepared.incremental(delta, await checked(ctx, p, index!, delta, opts));
  const sides = await loadPlanSides(
    ctx,
    p.layout === 'generations' ? [] : committed.packages,
    goal.packages,
  );
  const plan = planTransaction(sides.from, sides.to); // throws on paths two packages ship
  await preflight(ctx, p, plan, sides.to, { verify: opts.verify });
  if (p.layout === 'inplace')
    await checkPrefix(p.dir, plan, new Set(ownedPaths(sides.from).keys()));
  return prepared.full(sides);
}

/** The incremental plan, checked as a full one would be. */
async function checked(
  ctx: StoreContext,
  p: PrefixPaths,
  index: OwnershipDb,
  delta: OwnershipDelta,
  opts: TxnOptions,
): Promise<Plan> {
  const plan = planDelta(delta);
  await preflight(ctx, p, plan, delta.added, { verify: opts.verify });
  await checkPrefix(p.dir, plan, await ownedBefore(index, delta, plan.obstacles));
  return plan;
}

async function nextGeneration(
  p: PrefixPaths,
  cur: { generation: number; highest: number },
): Promise<number> {
  return Math.max(cur.highest, cur.generation, ...(await listGenerationNumbers(p))) + 1;
}

function newJournal(
  kind: TxnKind,
  p: PrefixPaths,
  opts: TxnOptions,
  sets: Pick<Journal, 'from' | 'to'>,
): Journal {
  return {
    formatVersion: 1,
    txid: newTxid(),
    kind,
    layout: p.layout,
    link: opts.link ?? 'auto',
    startedAt: new Date().toISOString(),
    ...sets,
  };
}

/** Journal (durable), then apply; a failure before commit reverts what was applied. */
async function applyNew(
  ctx: StoreContext,
  p: PrefixPaths,
  journal: Journal,
  prep: Prepared,
  opts: TxnOptions,
): Promise<Linker> {
  await writeJournal(p, journal);
  crashpoint('txn:after-journal');
  await pausepoint('txn:after-journal');
  const linker = createLinker(journal.link);
  const { from, to } = prep;
  try {
    await applyJournal(ctx, p, journal, from, to, linker, opts.onProgress, prep.plan);
  } catch (err) {
    await revertJournal(ctx, p, journal, from, to, linker, prep.reverse).catch(() => {});
    throw err;
  }
  return linker;
}

export function duplicateNames(refs: readonly PackageRef[]): void {
  const seen = new Set<string>();
  for (const r of refs) {
    if (seen.has(r.name))
      throw new PstoreError('EPSTORE_USAGE', `${r.name} is named twice in one transaction`, {
        subject: r.name,
      });
    seen.add(r.name);
  }
}
