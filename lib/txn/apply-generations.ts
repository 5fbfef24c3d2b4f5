// Apply to a `generations` prefix (SPEC.md §Generations layout): DIR is a symlink to
// <state>/trees/N. A new generation's tree is built from the store in full (nobody can see it yet),
// flushed, and then DIR is switched by a new symlink renamed over it: one atomic step whose cost
// does not grow with the prefix. Rollback is only the switch.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { replaceSymlink } from '../fs/atomic.js';
import { treeDir, type PrefixPaths } from '../prefix/layout.js';
import { crashpoint } from '../testing/crashpoint.js';
import { applyInplace, type ApplyContext } from './apply-inplace.js';
import type { Journal } from './journal.js';
import { planTransaction, type PlanPackage } from './plan.js';

export async function currentTreeTarget(p: PrefixPaths): Promise<string | undefined> {
  try {
    return path.resolve(path.dirname(p.dir), await fsp.readlink(p.dir));
  } catch {
    return undefined;
  }
}

export async function applyGenerations(ctx: Omit<ApplyContext, 'root'>, p: PrefixPaths, j: Journal, target: readonly PlanPackage[]): Promise<void> {
  const tree = treeDir(p, j.to.generation);
  if ((await currentTreeTarget(p)) === tree) return; // switched already, before a crash
  if (j.to.newGeneration) {
    await fsp.rm(tree, { recursive: true, force: true });
    await fsp.mkdir(tree, { recursive: true });
    await applyInplace({ ...ctx, root: tree }, planTransaction([], target));
  }
  crashpoint('apply:before-switch');
  await replaceSymlink(path.relative(path.dirname(p.dir), tree), p.dir);
  crashpoint('apply:after-switch');
}
