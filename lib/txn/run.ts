// One transaction, start to end (SPEC.md §Step order): prefix writer lock → store lock (shared, so
// gc waits) → recover any interrupted transaction → compute the target set → plan (pure) → check
// the prefix → journal (durable) → apply → commit → unlock. Failure before commit reverts.

import { PstoreError } from '../core/errors.js';
import { registerPrefix, unregisterPrefix } from '../store/prefixes.js';
import { discardNewPrefix, openPrefixForWrite } from '../prefix/open.js';
import type { PackageRef } from '../core/package-ref.js';
import { listGenerationNumbers, readCurrent, readCurrentGeneration } from '../prefix/state.js';
import { requireCompleteTree } from '../prefix/trees.js';
import { lockStore, type StoreContext } from '../store/context.js';
import { crashpoint, pausepoint } from '../core/crashpoint.js';
import { commitGeneration } from './commit.js';
import { newTxid, readJournal, writeJournal, type Journal, type TxnKind } from './journal.js';
import { assertSameFilesystem, createLinker } from './link.js';
import { difference, loadPlanSides, ownedPaths, sameSet } from './packages.js';
import { planTransaction, throwConflict } from './plan.js';
import { hintReplace } from './replace-hint.js';
import { preflight } from './preflight.js';
import { applyJournal, recoverPending, revertJournal } from './recover.js';
import { stepClock } from './steps.js';
import { resolveGoal, type Target, type TargetContext } from './goal.js';
import { previewTransaction } from './preview.js';
import { checkTakingOver, overwriteMatcher, saveTakenOver } from './overwrite.js';
import { savedToRestore } from './restore-saved.js';
import type { SavedPath } from '../prefix/overwritten.js';
import type { TxnOptions, TxnResult } from './txn-types.js';

export type { Target, TargetContext, TxnOptions, TxnResult };

export async function runTransaction(
  ctx: StoreContext,
  dir: string,
  kind: TxnKind,
  target: (t: TargetContext) => Promise<Target>,
  opts: TxnOptions = {},
): Promise<TxnResult> {
  if (opts.overwrite) overwriteMatcher(opts.overwrite); // a bad glob is refused before anything
  if (opts.dryRun) return previewTransaction(ctx, dir, kind, target, opts);
  const step = stepClock(opts.onProgress);
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
    step('lock');
    await recoverPending(ctx, p);
    step('recover');
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
    await assertSameFilesystem(opts.link, ctx.root, p.layout === 'inplace' ? p.dir : p.meta, p.dir);

    // Switching a generations prefix back to an existing tree is one symlink swap: no manifests,
    // no plan, so its cost does not grow with the prefix (the tree was checked when it was built).
    // A new generations tree is built from nothing: the old set's manifests are not needed either.
    const switchOnly = p.layout === 'generations' && goal.existingGeneration !== undefined;
    if (switchOnly) await requireCompleteTree(p, goal.existingGeneration!); // never switch to a partial tree
    const { from, to } = switchOnly
      ? { from: [], to: [] }
      : await loadPlanSides(ctx, p.layout === 'generations' ? [] : current, goal.packages);
    let overwritten: SavedPath[] = [];
    if (!switchOnly) {
      // throws on paths two packages ship
      const plan = planTransaction(from, to, hintReplace(current, goal.packages, throwConflict));
      step('plan');
      await preflight(ctx, p, plan, to, { verify: opts.verify });
      if (p.layout === 'inplace') {
        const owned = new Set(ownedPaths(from).keys());
        const taken = await checkTakingOver(p.dir, plan, owned, opts.overwrite);
        overwritten = await saveTakenOver(ctx.layout, p.dir, taken);
      }
    }
    step(switchOnly ? 'plan' : 'check');
    const generation =
      goal.existingGeneration ??
      Math.max(cur.highest, cur.generation, ...(await listGenerationNumbers(p))) + 1;
    const restore =
      p.layout === 'inplace' && goal.existingGeneration !== undefined
        ? await savedToRestore(p, cur.generation, generation, ownedPaths(to))
        : [];
    const journal: Journal = {
      formatVersion: 1,
      txid: newTxid(),
      kind,
      layout: p.layout,
      link: opts.link ?? 'auto',
      startedAt: new Date().toISOString(),
      ...(opts.command === undefined ? {} : { command: opts.command }),
      from: { generation: cur.generation, packages: current },
      to: {
        generation,
        packages: goal.packages,
        newGeneration: goal.existingGeneration === undefined,
      },
      ...(overwritten.length ? { overwritten } : {}),
      ...(restore.length ? { restore } : {}),
    };
    await writeJournal(p, journal);
    crashpoint('txn:after-journal');
    await pausepoint('txn:after-journal');
    step('journal');
    const linker = createLinker(journal.link);
    try {
      await applyJournal(ctx, p, journal, from, to, linker, opts.onProgress);
    } catch (err) {
      await revertJournal(ctx, p, journal, from, to, linker).catch(() => {});
      throw err;
    }
    step('apply');
    await commitGeneration(p, journal);
    step('commit');
    return {
      ...result,
      generation,
      link: linker.method,
      ...(overwritten.length ? { overwritten: overwritten.map((s) => s.path) } : {}),
      ...(restore.length ? { restored: restore.map((s) => s.path) } : {}),
    };
  } catch (err) {
    // A prefix this transaction created and could not fill is removed again: nothing changed.
    if (opened.created && !(await readJournal(p))) {
      await discardNewPrefix(opened);
      await unregisterPrefix(ctx.layout, p.meta);
    }
    throw err;
  } finally {
    await opened.lock.release();
    step('unlock');
  }
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
