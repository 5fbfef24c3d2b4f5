// `gc`: mark and sweep under the exclusive store lock, so no add or activation is in flight.
// Steps, each returning stats (cacache verify style): forget unreferenced entries, mark every object
// the kept manifests name, sweep unmarked objects and orphan manifest files, sweep tmp/.

import { promises as fsp } from 'node:fs';
import fse from 'fs-extra';
import path from 'node:path';
import { unregisterEntries } from '../db/entries.js';
import { isPstoreError } from '../errors.js';
import { BUILD_SUFFIX } from '../db/index-db.js';
import { objectKey } from '../store/layout.js';
import { lockStore, useIndex, type StoreContext } from '../store/context.js';
import { listManifestFiles, readManifestFile, readdirOrEmpty, removeManifestFile } from '../store/manifests.js';
import { hexOf } from '../store/verify.js';
import { crashpoint, pausepoint } from '../testing/crashpoint.js';
import { collectRoots } from './roots.js';

export interface GcOptions {
  dryRun?: boolean;
  /** keep entries added within this many milliseconds (default 24 h) */
  graceMs?: number;
}

export const DEFAULT_GRACE_MS = 24 * 3600 * 1000;

export interface GcResult {
  dryRun: boolean;
  entriesRemoved: Array<{ id: string; name: string; version: string }>;
  objectsRemoved: number;
  bytesFreed: number;
  tmpRemoved: number;
  entriesKept: number;
  prefixes: number;
}

export async function collectGarbage(ctx: StoreContext, opts: GcOptions = {}): Promise<GcResult> {
  const dryRun = opts.dryRun ?? false;
  await using _lock = await lockStore(ctx, 'exclusive');
  const roots = await useIndex(ctx, (db) => collectRoots(db, ctx.layout, { graceMs: opts.graceMs ?? DEFAULT_GRACE_MS, dryRun }));
  const result: GcResult = {
    dryRun, entriesRemoved: roots.unreferenced.map(({ id, name, version }) => ({ id, name, version })),
    objectsRemoved: 0, bytesFreed: 0, tmpRemoved: 0, entriesKept: roots.keep.size, prefixes: roots.prefixes,
  };
  if (!dryRun) await useIndex(ctx, (db) => unregisterEntries(db, roots.unreferenced.map((e) => e.id)));

  const live = new Set<string>();
  for (const id of roots.keep) {
    // Fail closed: if a kept entry's manifest cannot be read, gc cannot know its objects and
    // must not sweep any (readManifestFile throws EPSTORE_INTEGRITY naming it).
    const manifest = await readManifestFile(ctx.layout, id).catch((err: unknown) => {
      if (isPstoreError(err) && err.data?.reason === 'missing' && !roots.indexed.has(id)) return undefined; // a root whose entry is gone already
      throw err;
    });
    for (const f of manifest?.files ?? []) if (f.type === 'file') live.add(objectKey(hexOf(f.integrity), f.exec));
  }
  for (const { id } of await listManifestFiles(ctx.layout)) {
    if (!roots.keep.has(id) && !dryRun) await removeManifestFile(ctx.layout, id);
  }
  crashpoint('gc:before-sweep');
  await pausepoint('gc:before-sweep');
  await sweepObjects(ctx, live, dryRun, result);
  result.tmpRemoved = await sweepDir(ctx.layout.tmp, dryRun);
  result.tmpRemoved += await sweepStrays(ctx, dryRun);
  return result;
}

async function sweepObjects(ctx: StoreContext, live: Set<string>, dryRun: boolean, result: GcResult): Promise<void> {
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

/** Temp files a crash left beside manifests, and index builds a crash interrupted. */
async function sweepStrays(ctx: StoreContext, dryRun: boolean): Promise<number> {
  const doomed: string[] = [];
  for (const shard of await readdirOrEmpty(ctx.layout.entries)) {
    for (const n of await readdirOrEmpty(path.join(ctx.layout.entries, shard))) if (n.startsWith('.pstore-')) doomed.push(path.join(ctx.layout.entries, shard, n));
  }
  const hourAgo = Date.now() - 3600_000;
  for (const n of await readdirOrEmpty(ctx.root)) {
    if (!n.startsWith(path.basename(ctx.layout.index) + BUILD_SUFFIX)) continue;
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
