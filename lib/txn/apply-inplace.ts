// Apply a plan to an `inplace` prefix (SPEC.md §Step order). Every step converges ("make it so")
// rather than transitions, so running the same plan again after a crash, from any mix of the old
// and new trees, is safe: that is what recovery does.
//   (a) remove touched marker units (rename aside, then delete) and stale .pyc of changing modules
//   (b) clear type-changing paths, mkdir -p new dirs, place files: new names by link() or
//       symlink() straight to the final name, replaced names via a temp name + rename()
//   (c) remove files no package owns, their .pyc, and directories left empty
//   (d) one flush of what (a)-(c) changed (fs/flush.ts)
//   (e) place marker units, each built whole under a temp name and renamed into place
//   (f) one more flush; the caller then commits the generation
// Steps (a)-(c) and (e) are synchronous loops (place.ts, remove.ts): the cost per file is the
// system call and nothing else. Only the flushes and the test pause point wait, and a big plan's
// (b), whose directories and files a second thread shares (place-threads.ts).
// A tree nobody can see yet (a generations tree being built, published by one rename once
// complete) skips flush (d): the order it keeps, files durable before markers, is for readers of
// a live prefix, and a crash before the publication leaves a build that is thrown away. Its one
// flush, (f), covers both phases before the rename.

import path from 'node:path';
import { DirtyDirs } from '../fs/flush.js';
import { crashpoint, pausepoint, unsafeMarkersFirst } from '../core/crashpoint.js';
import type { ProgressListener } from '../core/types.js';
import { parentOf } from '../core/safe-path.js';
import { makeDirs, placeMarkerUnit, placeRange, type PlaceContext } from './place.js';
import { placeOnTwoThreads } from './place-threads.js';
import { takePlaceWorker } from './placer.js';
import type { Plan } from './plan.js';
import { stepClock } from './steps.js';
import { changedPrefixError } from './changed-prefix.js';
import {
  clearObstacle,
  removeAtomically,
  removeDirIfEmpty,
  removeIfPresent,
  removePycache,
} from './remove.js';

export interface ApplyContext extends Omit<PlaceContext, 'dirty'> {
  onProgress?: ProgressListener | undefined;
  /**
   * Starts the caller's own work for this thread (the index batch: Prepared.stageIndex), called
   * where the apply first waits with nothing of its own to do: for the placing worker's files,
   * or for a flush. It may be called again; only the first call counts.
   */
  onIdle?: (() => void) | undefined;
  /** how the filesystem holding the root is flushed: the transaction's helper, else `sync -f` each */
  syncfs?: ((root: string) => Promise<void>) | undefined;
}

type PhaseContext = ApplyContext & PlaceContext;

function placeMarkers(ctx: PhaseContext, plan: Plan): void {
  for (const unit of plan.placeMarkers) {
    placeMarkerUnit(ctx, unit, (abs) => removeAtomically(ctx, abs));
    crashpoint('apply:marker');
  }
}

/** (a) */
function removeTouchedMarkers(ctx: PhaseContext, plan: Plan): void {
  for (const unit of plan.removeMarkers) removeAtomically(ctx, path.join(ctx.root, unit));
  removePycache(ctx, plan.pycacheFor, plan.owned);
}

/** (b) */
async function placeFiles(ctx: PhaseContext, plan: Plan): Promise<void> {
  if (plan.obstacles.length) {
    const wanted = new Map(plan.place.map((p) => [p.file.path, p.file.type] as const));
    for (const rel of plan.obstacles) clearObstacle(ctx, rel, wanted.get(rel) ?? 'dir');
  }
  const worker = takePlaceWorker(plan.place.length);
  if (worker) {
    try {
      const between = (created: Set<string>) => removeStalePycache(ctx, plan, created);
      await placeOnTwoThreads(
        ctx,
        plan,
        worker,
        { between, waiting: () => ctx.onIdle?.() },
        ctx.onProgress,
      );
    } finally {
      worker.release(); // placeOnTwoThreads returns or throws only once the worker has answered
    }
    return;
  }
  removeStalePycache(ctx, plan, makeDirs(ctx, plan.mkdirs));
  placeRange(ctx, plan, 0, plan.place.length, { onProgress: ctx.onProgress });
}

/**
 * A __pycache__ left beside an arriving module (by an importer that raced an earlier removal) must
 * not outlive its source; a directory made just now (`created`) cannot hold one. Before the files.
 */
function removeStalePycache(ctx: PhaseContext, plan: Plan, created: Set<string>): void {
  removePycache(
    ctx,
    plan.newModules.filter((m) => !created.has(parentOf(m))),
    plan.owned,
  );
}

/** (c) */
function removeUnowned(ctx: PhaseContext, plan: Plan): void {
  for (const rel of plan.remove) removeIfPresent(ctx, `${ctx.root}/${rel}`);
  removePycache(ctx, plan.pycacheFor, plan.owned);
  for (const rel of plan.rmdirs) removeDirIfEmpty(ctx, `${ctx.root}/${rel}`);
}

export interface ApplyOptions {
  /** `root` is a tree no reader can reach until it is published whole (apply-generations.ts) */
  unpublished?: boolean;
}

export async function applyInplace(
  applyCtx: ApplyContext,
  plan: Plan,
  opts: ApplyOptions = {},
): Promise<void> {
  try {
    await applySteps({ ...applyCtx, dirty: new DirtyDirs(applyCtx.syncfs) }, plan, opts);
  } catch (err) {
    throw changedPrefixError(err, applyCtx.root);
  }
}

async function applySteps(ctx: PhaseContext, plan: Plan, opts: ApplyOptions): Promise<void> {
  const step = stepClock(ctx.onProgress);
  if (unsafeMarkersFirst) placeMarkers(ctx, plan);
  removeTouchedMarkers(ctx, plan);
  crashpoint('apply:after-remove-markers');
  step('apply:remove-markers');
  await placeFiles(ctx, plan);
  crashpoint('apply:after-files');
  await pausepoint('apply:after-files');
  step('apply:place-files');
  removeUnowned(ctx, plan);
  crashpoint('apply:after-removals');
  step('apply:remove-files');
  ctx.onIdle?.(); // the flush is the first wait of a plan placed on one thread
  if (!opts.unpublished) await ctx.dirty.flush(ctx.root); // (d)
  placeMarkers(ctx, plan); // (e)
  await ctx.dirty.flush(ctx.root); // (f)
  crashpoint('apply:after-markers');
  step('apply:place-markers');
}
