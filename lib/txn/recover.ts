// Recovery (SPEC.md §Recovery): a journal on disk means a transaction did not commit. Under the
// prefix writer lock, pstore rolls it forward (re-applies the same plan; every step converges, so
// this is safe from any mix of old and new) and commits. If rolling forward fails, it rolls back
// (applies the reverse plan) and drops the journal. Either way the prefix ends at exactly one of
// the two generations the journal names.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { TEMP_PREFIX } from '../core/names.js';
import { parentOf } from '../core/safe-path.js';
import { treeDir, type PrefixPaths } from '../prefix/layout.js';
import { removeGenerationTree, treeBuildDir } from '../prefix/trees.js';
import type { StoreContext } from '../store/context.js';
import { applyGenerations, currentTreeTarget, switchTo } from './apply-generations.js';
import { applyInplace, type ApplyContext } from './apply-inplace.js';
import { commitGeneration } from './commit.js';
import { clearJournal, readJournal, type Journal } from './journal.js';
import { createLinker, type Linker } from './link.js';
import { loadPlanSides, ownedPaths } from './packages.js';
import { checkPrefix } from './check.js';
import { planTransaction, type Plan, type PlanPackage } from './plan.js';
import { restoreSaved } from './restore-saved.js';

/** What {@link Prefix.recover} did with an interrupted transaction. */
export interface RecoverResult {
  /** false when no interrupted transaction was found */
  recovered: boolean;
  /** completed (`rolled-forward`) or undone (`rolled-back`) */
  action?: 'rolled-forward' | 'rolled-back';
  /** the interrupted transaction's id (from its journal) */
  txid?: string;
  /** the generation current after recovery */
  generation?: number;
}

/** A journalled transaction as the first run and recovery both move it, forward or back. */
export interface JournalMove {
  ctx: StoreContext;
  p: PrefixPaths;
  j: Journal;
  /** the packages of the journal's `from` side, as planned */
  from: PlanPackage[];
  /** the packages of its `to` side */
  to: PlanPackage[];
  linker: Linker;
}

/**
 * Move the prefix from `from` to `to` as the journal says (used by the first run and by recovery).
 * `plan`, the one the checks saw, stands for planTransaction(from, to): computed from the index
 * when the sides hold only the packages that change (SPEC.md §Ownership index), or from the full
 * sides; a generations tree is planTransaction([], to), which it is when `from` is empty.
 */
export async function applyJournal(
  { ctx, p, j, from, to, linker }: JournalMove,
  /** the first run's: its plan (recovery plans again), progress, and work for the waits */
  run: { plan?: Plan | undefined } & Pick<ApplyContext, 'onProgress' | 'onIdle' | 'syncfs'> = {},
): Promise<{ builtTree: boolean }> {
  const { plan, ...hooks } = run;
  const base = { store: ctx.layout, linker, txid: j.txid, ...hooks };
  if (p.layout === 'generations')
    return {
      builtTree: await applyGenerations(base, p, j, to, from.length === 0 ? plan : undefined),
    };
  await applyInplace({ ...base, root: p.dir }, plan ?? planTransaction(from, to));
  await restoreSaved(ctx.layout, p.dir, j.txid, j.restore);
  return { builtTree: false };
}

/** Undo a transaction that failed part-way, before its commit. */
export async function revertJournal(
  { ctx, p, j, from, to, linker }: JournalMove,
  reverse?: Plan,
): Promise<void> {
  if (p.layout === 'generations') {
    // The switch happened: switch back (or, for a first generation, remove the link again).
    if ((await currentTreeTarget(p)) === treeDir(p, j.to.generation))
      await switchTo(p, j.from.generation);
    if (j.to.newGeneration) {
      await fsp.rm(treeBuildDir(p, j.to.generation, j.txid), { recursive: true, force: true });
      await removeGenerationTree(p, j.to.generation);
    }
  } else {
    await applyInplace(
      { store: ctx.layout, root: p.dir, linker, txid: j.txid },
      reverse ?? planTransaction(to, from),
    );
    await restoreSaved(ctx.layout, p.dir, j.txid, j.overwritten);
    await sweepTemps(p, j.txid, bothSides(from, to));
  }
  await clearJournal(p);
}

export async function recoverPending(ctx: StoreContext, p: PrefixPaths): Promise<RecoverResult> {
  const j = await readJournal(p);
  if (!j) return { recovered: false };
  // A generations switch to an existing tree needs no manifests in either direction.
  const switchOnly = p.layout === 'generations' && !j.to.newGeneration;
  // As runTransaction: an unchanged package whose manifest is damaged is left out of both sides.
  const { from, to } = switchOnly
    ? { from: [], to: [] }
    : await loadPlanSides(ctx, p.layout === 'generations' ? [] : j.from.packages, j.to.packages);
  const move: JournalMove = { ctx, p, j, from, to, linker: createLinker(j.link) };
  // The prefix may have changed since the crash (a symlink planted where a directory was): check
  // again before writing, in either direction. Either side's paths may exist now, so both count as owned.
  const owned = new Set(bothSides(from, to));
  const recheck = (a: PlanPackage[], b: PlanPackage[]) =>
    p.layout === 'inplace' ? checkPrefix(p.dir, planTransaction(a, b), owned) : Promise.resolve();
  try {
    await recheck(from, to);
    await applyJournal(move);
    if (p.layout === 'inplace') await sweepTemps(p, j.txid, bothSides(from, to));
    await commitGeneration(p, j);
    return { recovered: true, action: 'rolled-forward', txid: j.txid, generation: j.to.generation };
  } catch (forwardError) {
    try {
      await recheck(to, from);
      await revertJournal(move);
    } catch {
      throw forwardError;
    }
    return { recovered: true, action: 'rolled-back', txid: j.txid, generation: j.from.generation };
  }
}

/** The paths either side of a transaction owns: after a crash, any of them may exist. */
function bothSides(from: PlanPackage[], to: PlanPackage[]): string[] {
  return [...ownedPaths(from).keys(), ...ownedPaths(to).keys()];
}

/** Remove temp and trash names an interrupted transaction left in the directories it worked in. */
async function sweepTemps(p: PrefixPaths, txid: string, paths: readonly string[]): Promise<void> {
  const dirs = new Set<string>(['']);
  for (const rel of paths) dirs.add(parentOf(rel));
  const mine = [`${TEMP_PREFIX}tmp-${txid}-`, `${TEMP_PREFIX}trash-${txid}-`];
  for (const rel of dirs) {
    const dir = path.join(p.dir, rel);
    const names = await fsp.readdir(dir).catch(() => [] as string[]);
    await Promise.all(
      names
        .filter((n) => mine.some((m) => n.startsWith(m)))
        .map((n) => fsp.rm(path.join(dir, n), { recursive: true, force: true })),
    );
  }
}
