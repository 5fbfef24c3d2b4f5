// Which wanted entries the store already holds, asked of the manifest files alone (SPEC.md §OCI
// push and pull: the manifest file is the truth of an entry's existence; no index session). Kept
// apart from pull.ts so that a warm `sync --from`, whose store has every locked entry, loads no OCI
// client at all.

import { promises as fsp } from 'node:fs';
import type { StoreContext } from '../../store/context.js';
import { manifestPath } from '../../store/layout.js';
import { lockedPackages, type Lockfile } from '../lockfile.js';
import type { PulledEntry, PullResult } from './pull-result.js';

export async function presentIds(
  ctx: StoreContext,
  ids: ReadonlyArray<string | undefined>,
): Promise<Set<string>> {
  const present = new Set<string>();
  for (const id of ids) {
    if (id === undefined) continue;
    if (
      await fsp.access(manifestPath(ctx.layout, id)).then(
        () => true,
        () => false,
      )
    )
      present.add(id);
  }
  return present;
}

export function presentEntry(e: {
  id?: string | undefined;
  name?: string | undefined;
  version?: string | undefined;
}): PulledEntry {
  return { id: e.id ?? '', name: e.name ?? '', version: e.version ?? '', pulled: false };
}

/** The result of pulling `lock` when the store holds all its entries (no request); else undefined. */
export async function pulledAlready(
  ctx: StoreContext,
  lock: Lockfile,
  remote: string,
  dryRun: boolean,
): Promise<PullResult | undefined> {
  const packages = lockedPackages(lock);
  const have = await presentIds(
    ctx,
    packages.map((p) => p.id),
  );
  if (packages.some((p) => !have.has(p.id))) return undefined;
  return {
    remote,
    entries: packages.map(presentEntry),
    blobsDownloaded: 0,
    bytesDownloaded: 0,
    objectsImported: 0,
    dryRun,
  };
}
