// `gc`: mark and sweep under the exclusive store lock, so no add or activation is in flight.
// The manifest files are the truth and the index only a cache: gc registers manifests the index
// lacks instead of deleting them, and decides from the manifests, the prefixes' roots and the grace
// period by the filesystem's clock (clock.ts). Steps, each returning stats (cacache verify style):
// forget unreferenced entries, mark every object the kept manifests name, sweep unmarked objects
// and orphan manifest files, sweep tmp/.

import { promises as fsp } from 'node:fs';
import fse from 'fs-extra';
import path from 'node:path';
import { listEntries, registerEntry, unregisterEntries } from '../store/index-entries.js';
import { unindexedManifests } from '../store/index-rebuild.js';
import { errnoCode, isPstoreError, isDenied } from '../core/errors.js';
import type { IndexDb } from '../store/index-db.js';
import { BUILD_SUFFIX } from '../store/index-files.js';
import { BROKEN_SUFFIX } from '../store/index-health.js';
import { TEMP_PREFIX } from '../core/names.js';
import { fileObjectKey } from '../core/object-key.js';
import {
  lockStore,
  RECORDING,
  storeLockFile,
  useIndex,
  type StoreContext,
} from '../store/context.js';
import { readdirOrEmpty } from '../fs/dir.js';
import type { HeldLock } from '../fs/lock.js';
import { listManifestFiles, readManifestFile, removeManifestFile } from '../store/manifests.js';
import { crashpoint, pausepoint } from '../core/crashpoint.js';
import { filesystemNow } from './clock.js';
import { collectPrefixRoots, keptEntries, type Candidate } from './roots.js';

/** Options of {@link Store.gc}; all optional. */
export interface GcOptions {
  /** report what would be removed and remove nothing (default false) */
  dryRun?: boolean;
  /** keep entries added within this many milliseconds (default 24 h) */
  graceMs?: number;
  /** forget registered prefixes whose state is missing now, instead of after DEFAULT_GRACE_MS */
  forgetMissing?: boolean;
}

export const DEFAULT_GRACE_MS = 24 * 3600 * 1000;

/** What {@link Store.gc} removed (or, with `dryRun`, would remove). */
export interface GcResult {
  /** whether this was a dry run (nothing was removed) */
  dryRun: boolean;
  /** the entries removed */
  entriesRemoved: Array<{
    /** the entry id */
    id: string;
    /** the package name */
    name: string;
    /** the package version */
    version: string;
  }>;
  /** store objects removed */
  objectsRemoved: number;
  /** size of the objects removed, in bytes */
  bytesFreed: number;
  /** leftover temporary files and directories removed */
  tmpRemoved: number;
  /** entries kept (needed by a prefix, or within the grace period) */
  entriesKept: number;
  /** registered prefixes whose generations were taken as roots */
  prefixes: number;
  /** registered prefixes whose state is missing (unmounted? deleted?): while any is, every entry is kept */
  prefixesMissing: string[];
  /**
   * kept entries whose manifest is damaged or missing: gc cannot know their objects, so it swept
   * no object this time (everything else it did); `pstore verify --repair` and a re-add mend them
   */
  damagedManifests: string[];
}

/** A refusal by permission or a read-only filesystem, raw or as the library's code. */
const denied = (err: unknown) => isPstoreError(err, 'EPSTORE_PERMISSION') || isDenied(err);

/**
 * gc's store lock: exclusive, so no add or activation is in flight. A dry run only reads: on a store
 * this user may not write (a read-only mount, another user's), it reads under the shared lock
 * readers take, and its report may then count the objects of an add in flight as unreferenced.
 */
async function gcLock(ctx: StoreContext, dryRun: boolean): Promise<HeldLock> {
  try {
    return await lockStore(ctx, 'exclusive');
  } catch (err) {
    if (!dryRun || !denied(err)) throw err;
    return lockStore(ctx, 'shared');
  }
}

export async function collectGarbage(ctx: StoreContext, opts: GcOptions = {}): Promise<GcResult> {
  const dryRun = opts.dryRun ?? false;
  await using _lock = await gcLock(ctx, dryRun);
  const now = await filesystemNow(storeLockFile(ctx)).catch((err: unknown) => {
    if (dryRun && denied(err)) return Date.now(); // the lock file may not be touched: this host's clock
    throw err;
  });
  const roots = await collectPrefixRoots(ctx.layout, {
    now,
    dryRun,
    forgetMissing: opts.forgetMissing ?? false,
    missingGraceMs: DEFAULT_GRACE_MS,
  });
  const { candidates, indexed } = await useIndex(ctx, (db) => gcCandidates(ctx, db, dryRun), {
    reconcile: 'never',
  });
  const files = new Map((await listManifestFiles(ctx.layout)).map((f) => [f.id, f]));
  const keep = keptEntries(candidates, files, roots, {
    now,
    graceMs: opts.graceMs ?? DEFAULT_GRACE_MS,
  });
  const unreferenced = candidates.filter((c) => !keep.has(c.id));
  const result: GcResult = {
    dryRun,
    entriesRemoved: unreferenced.map(({ id, name, version }) => ({ id, name, version })),
    objectsRemoved: 0,
    bytesFreed: 0,
    tmpRemoved: 0,
    entriesKept: keep.size,
    prefixes: roots.prefixes,
    prefixesMissing: roots.missing,
    damagedManifests: [],
  };
  if (!dryRun)
    await forgetEntries(
      ctx,
      unreferenced.filter((c) => indexed.has(c.id)).map((c) => c.id),
    );

  const { live, damaged } = await markLive(ctx, keep, indexed);
  for (const key of roots.objects) live.add(key);
  result.damagedManifests = damaged;
  for (const id of files.keys()) {
    if (!keep.has(id) && !dryRun) await removeManifestFile(ctx.layout, id);
  }
  crashpoint('gc:before-sweep');
  await pausepoint('gc:before-sweep');
  if (damaged.length === 0) await sweepObjects(ctx, live, dryRun, result);
  result.tmpRemoved = await sweepDir(ctx.layout.tmp, dryRun);
  result.tmpRemoved += await sweepStrays(ctx, now, dryRun);
  return result;
}

/**
 * Every entry the index records, plus every readable manifest it lacks (a lost log tail): those
 * are registered again (not in a dry run), never treated as garbage.
 */
async function gcCandidates(
  ctx: StoreContext,
  db: IndexDb,
  dryRun: boolean,
): Promise<{ candidates: Candidate[]; indexed: Set<string> }> {
  const unindexed = await unindexedManifests(ctx.layout, db);
  if (!dryRun) for (const r of unindexed) await registerEntry(db, r);
  const records = await listEntries(db);
  const indexed = new Set(records.map((e) => e.id));
  return { candidates: [...records, ...unindexed.filter((r) => !indexed.has(r.id))], indexed };
}

/** Forget in the index; where there is no room to, drop the index (a cache, rebuilt from what gc leaves). */
async function forgetEntries(ctx: StoreContext, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  try {
    await useIndex(ctx, (db) => unregisterEntries(db, ids), RECORDING);
  } catch (err) {
    if (errnoCode(err) !== 'ENOSPC' && errnoCode(err) !== 'EDQUOT') throw err;
    await fsp.rm(ctx.layout.index, { recursive: true, force: true });
  }
}

/**
 * The objects the kept entries name. A kept entry whose manifest cannot be read blocks only what
 * needs it: gc cannot know its objects, so the caller sweeps none, and does the rest.
 */
async function markLive(
  ctx: StoreContext,
  keep: Set<string>,
  indexed: Set<string>,
): Promise<{ live: Set<string>; damaged: string[] }> {
  const live = new Set<string>();
  const damaged: string[] = [];
  for (const id of keep) {
    let manifest;
    try {
      manifest = await readManifestFile(ctx.layout, id);
    } catch (err) {
      if (!isPstoreError(err, 'EPSTORE_INTEGRITY')) throw err;
      // A root whose entry is gone already (gc took it before the prefix named it) names no object.
      if (!(err.data?.reason === 'missing' && !indexed.has(id))) damaged.push(id);
      continue;
    }
    for (const f of manifest.files) if (f.type === 'file') live.add(fileObjectKey(f));
  }
  return { live, damaged };
}

async function sweepObjects(
  ctx: StoreContext,
  live: Set<string>,
  dryRun: boolean,
  result: GcResult,
): Promise<void> {
  for (const shard of await readdirOrEmpty(ctx.layout.objects)) {
    const dir = path.join(ctx.layout.objects, shard);
    for (const name of await readdirOrEmpty(dir)) {
      if (live.has(shard + name)) continue;
      const file = path.join(dir, name);
      const st = await fsp.lstat(file).catch(() => undefined);
      if (!st) continue;
      result.objectsRemoved++;
      result.bytesFreed += st.size;
      if (!dryRun) await fsp.rm(file, { force: true });
    }
  }
}

/** Temp files a crash left beside manifests, index builds a crash interrupted, indexes set aside, probes. */
async function sweepStrays(ctx: StoreContext, now: number, dryRun: boolean): Promise<number> {
  const doomed: string[] = [];
  for (const shard of await readdirOrEmpty(ctx.layout.entries)) {
    for (const n of await readdirOrEmpty(path.join(ctx.layout.entries, shard)))
      if (n.startsWith(TEMP_PREFIX)) doomed.push(path.join(ctx.layout.entries, shard, n));
  }
  const hourAgo = now - 3600_000;
  const index = path.basename(ctx.layout.index);
  for (const n of await readdirOrEmpty(ctx.root)) {
    // indexes set aside as broken, and write probes a killed diagnosis left (index-health.ts)
    if (n.startsWith(index + BROKEN_SUFFIX) || n.startsWith(`${TEMP_PREFIX}probe-`))
      doomed.push(path.join(ctx.root, n));
    if (!n.startsWith(index + BUILD_SUFFIX)) continue;
    const st = await fsp.stat(path.join(ctx.root, n)).catch(() => undefined);
    if (st && st.mtimeMs < hourAgo) doomed.push(path.join(ctx.root, n));
  }
  if (!dryRun) await Promise.all(doomed.map((f) => fse.remove(f)));
  return doomed.length;
}

async function sweepDir(dir: string, dryRun: boolean): Promise<number> {
  const names = await readdirOrEmpty(dir);
  if (!dryRun) await Promise.all(names.map((n) => fse.remove(path.join(dir, n))));
  return names.length;
}
