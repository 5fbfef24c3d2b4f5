// Forgetting old generations (SPEC.md §Transactions, prune). Order, so that a crash at any instant
// leaves nothing half-deleted reachable: current.json records the highest number (never reused);
// then, per generation, its record goes (durably) BEFORE its tree is renamed away and deleted. A
// tree whose record is gone is unreachable (rollback names generations by record); one left by a
// crash between the two steps is removed by the next prune. Runs under the writer lock, after
// recovery, so no journal names any of these generations.

import { promises as fsp } from 'node:fs';
import { fsyncDir } from '../fs/atomic.js';
import { crashpoint } from '../core/crashpoint.js';
import { generationFile, type PrefixPaths } from './layout.js';
import { listGenerationNumbers, readCurrent, writeJson } from './state.js';
import { listTreeNumbers, removeGenerationTree } from './trees.js';

/** What {@link Prefix.prune} did. */
export interface PruneResult {
  /** the prefix directory, absolute */
  prefix: string;
  /** the generation numbers removed */
  removed: number[];
  /** the generation numbers kept (the newest `keep`, and always the current one) */
  kept: number[];
}

export async function pruneGenerations(p: PrefixPaths, keep: number): Promise<PruneResult> {
  const cur = await readCurrent(p);
  const numbers = await listGenerationNumbers(p);
  const kept = new Set(numbers.slice(Math.max(0, numbers.length - keep)));
  kept.add(cur.generation);
  const removed = numbers.filter((n) => !kept.has(n));
  // Record the highest number first, so a pruned number is never handed out again.
  await writeJson(p.current, { ...cur, highest: Math.max(cur.highest, ...numbers) });
  crashpoint('prune:after-current');
  for (const n of removed) {
    await forgetGeneration(p, n);
    if (p.layout === 'generations') await removeGenerationTree(p, n);
  }
  if (p.layout === 'generations') await removeOrphanTrees(p, cur.generation);
  return { prefix: p.dir, removed, kept: numbers.filter((n) => kept.has(n)) };
}

/** The record goes first and durably: from then on nothing can switch to the tree. */
async function forgetGeneration(p: PrefixPaths, n: number): Promise<void> {
  await fsp.rm(generationFile(p, n), { force: true });
  await fsyncDir(p.generations);
  crashpoint('prune:after-record');
}

/** Trees without a record (a prune killed between its two steps) are unreachable: remove them. */
async function removeOrphanTrees(p: PrefixPaths, current: number): Promise<void> {
  const recorded = new Set(await listGenerationNumbers(p));
  for (const n of await listTreeNumbers(p))
    if (!recorded.has(n) && n !== current) await removeGenerationTree(p, n);
}
