// Apply to a `generations` prefix (SPEC.md §Generations layout): DIR is a symlink to
// <state>/trees/N. A new generation's tree is built from the store in full under a temp name
// (nobody can see it), flushed, published as trees/N by one rename (lib/prefix/trees.ts), and then
// DIR is switched by a new symlink renamed over it: one atomic step whose cost does not grow with
// the prefix. Rollback is only the switch, and only to a tree that is there whole.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { replaceSymlink } from '../fs/atomic.js';
import { treeDir, type PrefixPaths } from '../prefix/layout.js';
import { publishTree, requireCompleteTree, treeBuildDir, treeIsComplete } from '../prefix/trees.js';
import { crashpoint } from '../core/crashpoint.js';
import { applyInplace, type ApplyContext } from './apply-inplace.js';
import type { Journal } from './journal.js';
import { refuseUnlinkableObjects } from './object-check.js';
import { planTransaction, type Plan, type PlanPackage } from './plan.js';

export async function currentTreeTarget(p: PrefixPaths): Promise<string | undefined> {
  try {
    return path.resolve(path.dirname(p.dir), await fsp.readlink(p.dir));
  } catch {
    return undefined;
  }
}

/** Returns true when this call built the new tree (not an earlier, interrupted attempt). */
export async function applyGenerations(
  ctx: Omit<ApplyContext, 'root'>,
  p: PrefixPaths,
  j: Journal,
  target: readonly PlanPackage[],
  /** planTransaction([], target) when the caller has it already (the checks' plan) */
  plan?: Plan,
): Promise<boolean> {
  const n = j.to.generation;
  const tree = treeDir(p, n);
  if ((await currentTreeTarget(p)) === tree) return false; // switched already, before a crash
  // A published trees/N is complete (an earlier attempt got that far): only the switch is left.
  const build = j.to.newGeneration && !(await treeIsComplete(p, n));
  if (build) await buildTree(ctx, p, j, target, plan ?? planTransaction([], target));
  await requireCompleteTree(p, n);
  crashpoint('apply:before-switch');
  await switchTo(p, n);
  crashpoint('apply:after-switch');
  return build;
}

async function buildTree(
  ctx: Omit<ApplyContext, 'root'>,
  p: PrefixPaths,
  j: Journal,
  target: readonly PlanPackage[],
  plan: Plan,
): Promise<void> {
  const built = treeBuildDir(p, j.to.generation, j.txid);
  await fsp.rm(built, { recursive: true, force: true }); // an earlier attempt's, never published
  await fsp.mkdir(built, { recursive: true });
  try {
    // Unpublished: one flush at its end, before publishTree's rename makes it reachable.
    await applyInplace({ ...ctx, root: built }, plan, { unpublished: true });
  } catch (err) {
    // The check may have passed over kept entries' objects (SPEC.md §Check, *Kept entries*): one
    // link() could not use (gone since, by `verify --repair`) is reported as the check would.
    refuseUnlinkableObjects(ctx.store, plan, target, err);
    throw err;
  }
  await publishTree(p, built, j.to.generation);
}

/** Point DIR at generation N's tree; generation 0 has none: DIR goes. */
export async function switchTo(p: PrefixPaths, n: number): Promise<void> {
  if (n === 0) await fsp.rm(p.dir, { force: true });
  else await replaceSymlink(path.relative(path.dirname(p.dir), treeDir(p, n)), p.dir);
}
