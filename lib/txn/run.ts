// One transaction, start to end (SPEC.md §Step order): prefix writer lock → store lock (shared, so
// gc waits) → recover any interrupted transaction → compute the target set → plan (pure) → check
// the prefix → journal (durable) → apply → commit → unlock. Failure before commit reverts.

import { PstoreError } from '../core/errors.js';
import { resolveRef } from '../store/index-entries.js';
import type { IndexDb } from '../store/index-db.js';
import { registerPrefix, unregisterPrefix } from '../store/prefixes.js';
import type { LayoutKind } from '../core/names.js';
import { discardNewPrefix, openPrefixForWrite } from '../prefix/open.js';
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
import { assertSameFilesystem, createLinker, type LinkMode } from './link.js';
import { difference, loadPlanSides, ownedPaths, sameSet, toPackageRef } from './packages.js';
import { planTransaction } from './plan.js';
import { preflight } from './preflight.js';
import { applyJournal, recoverPending, revertJournal } from './recover.js';

export interface TxnOptions {
  link?: LinkMode;
  /** layout for a prefix this transaction creates */
  layout?: LayoutKind;
  onProgress?: ProgressListener;
  /** rehash every object to be linked first, not only check its size */
  verify?: boolean;
  /**
   * what made this transaction, recorded in the generation it creates and shown by `generations`
   * (the CLI passes its command line; an installer may pass its own words)
   */
  command?: string;
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
    const targetCtx = (resolve: TargetContext['resolve']): TargetContext => ({
      current,
      currentGeneration: cur.generation,
      resolve,
      generation: async (n) => (await readGeneration(p, n))?.packages,
    });
    // A rollback names a generation, not refs: it needs no index session.
    const goal =
      kind === 'rollback'
        ? await target(
            targetCtx(async (ref) => {
              throw new PstoreError('EPSTORE_INTERNAL', `rollback resolved a ref (${ref})`);
            }),
          )
        : await useIndex(ctx, (db: IndexDb) =>
            target(targetCtx(async (ref) => toPackageRef(await resolveRef(db, ref)))),
          );
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
    opts.onProgress?.({ phase: 'plan', done: 0 }); // reading manifests and checking may take a while
    if (switchOnly) await requireCompleteTree(p, goal.existingGeneration!); // never switch to a partial tree
    const { from, to } = switchOnly
      ? { from: [], to: [] }
      : await loadPlanSides(ctx, p.layout === 'generations' ? [] : current, goal.packages);
    if (!switchOnly) {
      const plan = planTransaction(from, to); // throws on paths two packages ship
      await preflight(ctx, p, plan, to, { verify: opts.verify });
      if (p.layout === 'inplace') await checkPrefix(p.dir, plan, new Set(ownedPaths(from).keys()));
    }
    const generation =
      goal.existingGeneration ??
      Math.max(cur.highest, cur.generation, ...(await listGenerationNumbers(p))) + 1;
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
    };
    await writeJournal(p, journal);
    crashpoint('txn:after-journal');
    await pausepoint('txn:after-journal');
    const linker = createLinker(journal.link);
    try {
      await applyJournal(ctx, p, journal, from, to, linker, opts.onProgress);
    } catch (err) {
      await revertJournal(ctx, p, journal, from, to, linker).catch(() => {});
      throw err;
    }
    await commitGeneration(p, journal);
    return { ...result, generation, link: linker.method };
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
