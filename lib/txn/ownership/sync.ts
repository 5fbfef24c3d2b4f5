// Keeping the ownership index in line with the committed generation (SPEC.md §Ownership index).
// Before a transaction plans, and after it commits, the index's meta record is compared with the
// committed set: equal, it is used; another set (a crash between commit and the index batch, a
// rollback recovered, an older pstore's transaction), it is caught up by the delta between the two
// sets, reading only their manifests; missing or damaged, it is rebuilt aside from every manifest.
// The index is derived data: when even that cannot be done (a damaged manifest), the transaction
// plans from every manifest as before, and nothing is lost.

import { isLocked } from '../../store/index-health.js';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { isPstoreError } from '../../core/errors.js';
import { TEMP_PREFIX } from '../../core/names.js';
import type { PackageRef } from '../../core/package-ref.js';
import type { PrefixPaths } from '../../prefix/layout.js';
import { readCurrent, readCurrentGeneration } from '../../prefix/state.js';
import type { StoreContext } from '../../store/context.js';
import { loadPackages } from '../packages.js';
import { DamagedIndex, OwnershipDb, rebuildAside, removeIndex, type StagedBatch } from './db.js';
import {
  changedPackages,
  deltaHasNoRecord,
  deltaWrites,
  loadDelta,
  NO_ENTRIES,
  type OwnershipDelta,
} from './delta.js';
import {
  deriveEntries,
  globsOf,
  indexedPackage,
  indexMeta,
  setDigest,
  type IndexedPackage,
  type IndexMeta,
} from './entry.js';
import type { PlanPackage, TargetUnits } from '../plan.js';

export interface CommittedSet {
  generation: number;
  packages: readonly PackageRef[];
}

/**
 * The index describing `committed`, open; undefined when it cannot be built (plan in full).
 * `open`: the index as a previous transaction of this process left it, checked as one just opened.
 */
export async function syncOwnership(
  ctx: StoreContext,
  p: PrefixPaths,
  committed: CommittedSet,
  open?: OwnershipDb,
): Promise<OwnershipDb | undefined> {
  const db = open ?? (await openOrDrop(p));
  if (db === 'busy') return undefined;
  if (db) {
    try {
      const batch = await catchUpBatch(ctx, db, committed);
      if (batch) {
        await batch.write();
        return db;
      }
    } catch (err) {
      if (!(err instanceof DamagedIndex) && !isPstoreError(err)) {
        await db.close();
        throw err;
      }
    }
    await db.close();
  }
  return rebuild(ctx, p, committed);
}

const NOTHING_TO_WRITE: StagedBatch = { write: async () => {}, discard: async () => {} };

/**
 * The batch that brings the index to `committed` once it is committed: the transaction's own delta
 * (the index described its from-set, under the same lock), or a catch-up when it planned in full.
 * Built while the apply runs (Prepared.stageIndex), written after the commit. A failure leaves the
 * index behind, and the next transaction catches it up: the commit stands.
 */
export async function stageOwnership(
  ctx: StoreContext,
  db: OwnershipDb,
  delta: OwnershipDelta | undefined,
  committed: CommittedSet,
  /** packages the transaction read already (a full plan's sides): not read again */
  loaded: readonly PlanPackage[] = [],
  /** a full plan's target units: not found again */
  units?: TargetUnits,
): Promise<StagedBatch> {
  if (!delta) return (await catchUpBatch(ctx, db, committed, loaded, units)) ?? NOTHING_TO_WRITE;
  const after = packagesAfter(
    await db.meta(),
    delta.removed.map((r) => r.ref),
    delta.added,
  );
  return stageDelta(db, delta, indexMeta(committed.generation, after));
}

export function packagesAfter(
  meta: IndexMeta,
  removed: readonly { id: string }[],
  added: readonly PlanPackage[],
): IndexedPackage[] {
  const gone = new Set(removed.map((r) => r.id));
  return [...meta.packages.filter((k) => !gone.has(k.id)), ...added.map(indexedPackage)];
}

/**
 * The index one writer keeps open across the transactions it runs under one hold of the prefix
 * lock (its own, then the waiters' it serves: SPEC.md §Group commit), instead of opening LevelDB
 * for each; still synced with the committed set before each one. Closed before the lock is let go.
 */
export class HeldOwnership {
  private db: OwnershipDb | undefined;
  /** the index begin() is bringing in line, until a sync() or close() takes it over */
  private pending: Promise<OwnershipDb | undefined> | undefined;

  /**
   * Start syncing the index with `committed` now, in the background, while the caller waits on
   * other things (a new prefix's empty index is made while the store's index is opened: both
   * wait on LevelDB's syncs). The next sync() takes the result over and checks it against the
   * committed set it is given, as it checks an index kept open; a failure is thrown there.
   */
  begin(ctx: StoreContext, p: PrefixPaths, committed: CommittedSet): void {
    if (this.db || this.pending) return;
    const pending = syncOwnership(ctx, p, committed);
    pending.catch(() => {}); // not unhandled: the sync() or close() that takes it over sees it
    this.pending = pending;
  }

  /** The index describing `committed` (syncOwnership), kept open for the next transaction. */
  async sync(
    ctx: StoreContext,
    p: PrefixPaths,
    committed: CommittedSet,
  ): Promise<OwnershipDb | undefined> {
    const open = this.db ?? (await this.takePending());
    this.db = undefined; // syncOwnership closes it when it cannot use it
    this.db = await syncOwnership(ctx, p, committed, open);
    return this.db;
  }

  /** Let LevelDB finish the compaction it has due in the index held, if one is (db.ts settle). */
  async settle(): Promise<void> {
    await this.db?.settle();
  }

  /**
   * Close it (a failed transaction's next one, if any, opens it afresh), waiting first for one
   * begin() started: nothing may still be writing the index once the caller goes on (a failed new
   * prefix removes it; the lock is let go next).
   */
  async close(): Promise<void> {
    const db = this.db ?? (await this.takePending().catch(() => undefined));
    this.db = undefined;
    await db?.close();
  }

  private takePending(): Promise<OwnershipDb | undefined> {
    const pending = this.pending;
    this.pending = undefined;
    return pending ?? Promise.resolve(undefined);
  }
}

/** The index, or undefined after removing a damaged one; 'busy' while `verify` reads it. */
async function openOrDrop(p: PrefixPaths): Promise<OwnershipDb | 'busy' | undefined> {
  try {
    return await OwnershipDb.open(p);
  } catch (err) {
    if (isLocked(err)) return 'busy';
    if (!(err instanceof DamagedIndex)) throw err;
    await removeIndex(p);
    return undefined;
  }
}

/**
 * The batch that brings the index to `committed` by the delta between the sets; undefined when
 * only a rebuild can.
 */
async function catchUpBatch(
  ctx: StoreContext,
  db: OwnershipDb,
  committed: CommittedSet,
  loaded: readonly PlanPackage[] = [],
  units?: TargetUnits,
): Promise<StagedBatch | undefined> {
  const meta = await db.meta();
  if (meta.digest === setDigest(committed.packages)) {
    if (meta.generation === committed.generation) return NOTHING_TO_WRITE;
    return db.stage(new Map(), { ...meta, generation: committed.generation });
  }
  const { removed, added } = changedPackages(meta.packages, committed.packages);
  const [r, a] = await Promise.all([
    reusePackages(ctx, removed, loaded),
    reusePackages(ctx, added, loaded),
  ]);
  const after = packagesAfter(meta, removed, a);
  // Other globs move paths between marker units: the entries' units are rebuilt from scratch.
  const globs = globsOf(after);
  if (globs.join('\0') !== globsOf(meta.packages).join('\0')) return undefined;
  // An index describing no package has no entry to look up (a new prefix's first transaction).
  const source = meta.packages.length ? db : NO_ENTRIES;
  const delta = await loadDelta(source, r, a, globs, knownUnits(units, globs, a));
  return stageDelta(db, delta, indexMeta(committed.generation, after));
}

/** A plan's units where they hold every path of `added` and were found with `globs`. */
function knownUnits(
  units: TargetUnits | undefined,
  globs: readonly string[],
  added: readonly PlanPackage[],
): ReadonlyMap<string, string> | undefined {
  if (!units || units.globs.join('\0') !== globs.join('\0')) return undefined;
  return added.every((p) => units.ids.has(p.ref.id)) ? units.of : undefined;
}

/** The packages of `refs`, taken from `loaded` where it holds them, else read from the store. */
async function reusePackages(
  ctx: StoreContext,
  refs: readonly PackageRef[],
  loaded: readonly PlanPackage[],
): Promise<PlanPackage[]> {
  const byId = new Map(loaded.map((p) => [p.ref.id, p]));
  const missing = refs.filter((r) => !byId.has(r.id));
  for (const p of await loadPackages(ctx, missing)) byId.set(p.ref.id, p);
  return refs.map((r) => ({ ref: r, manifest: byId.get(r.id)!.manifest }));
}

async function rebuild(
  ctx: StoreContext,
  p: PrefixPaths,
  committed: CommittedSet,
): Promise<OwnershipDb | undefined> {
  await sweepBuilds(p);
  // A new prefix (nothing committed): no manifest to read, no entry to build aside.
  if (!committed.packages.length)
    return OwnershipDb.createEmpty(p, indexMeta(committed.generation, []));
  let pkgs;
  try {
    pkgs = await loadPackages(ctx, committed.packages);
  } catch (err) {
    if (isPstoreError(err)) return undefined; // a manifest unreadable: plan in full, as before
    throw err;
  }
  await rebuildAside(
    p,
    deriveEntries(pkgs),
    indexMeta(committed.generation, pkgs.map(indexedPackage)),
  );
  return OwnershipDb.open(p);
}

/** Builds a killed rebuild left behind (only the writer lock's holder rebuilds). */
async function sweepBuilds(p: PrefixPaths): Promise<void> {
  const names = await fsp.readdir(p.meta).catch(() => [] as string[]);
  for (const n of names)
    if (n.startsWith(`${TEMP_PREFIX}ownership-`))
      await fsp.rm(path.join(p.meta, n), { recursive: true, force: true });
}

/** Rebuild the index from the committed generation's manifests (`verify --prefix --repair`). */
export async function rebuildOwnership(ctx: StoreContext, p: PrefixPaths): Promise<void> {
  const cur = await readCurrent(p);
  const committed = {
    generation: cur.generation,
    packages: (await readCurrentGeneration(p, cur)).packages,
  };
  await removeIndex(p);
  await (await syncOwnership(ctx, p, committed))?.close();
}

/** One batch: a delta's entries, and the meta of the set they describe. */
function stageDelta(db: OwnershipDb, delta: OwnershipDelta, meta: IndexMeta): Promise<StagedBatch> {
  return db.stage(deltaWrites(delta), meta, deltaHasNoRecord(delta));
}
