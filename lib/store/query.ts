// Read-only questions about the store: list entries, describe one.

import { listEntries, resolveRef } from './index-entries.js';
import type { EntryRecord, ManifestFile } from '../core/types.js';
import { PstoreError } from '../core/errors.js';
import { storeExists, useIndex, type StoreContext } from './context.js';
import { readManifestFile } from './manifests.js';

export async function listStoreEntries(ctx: StoreContext): Promise<EntryRecord[]> {
  if (!(await storeExists(ctx))) return [];
  const entries = await useIndex(ctx, listEntries, { reconcile: 'always' });
  return entries.sort((a, b) => (a.name === b.name ? a.seq - b.seq : a.name < b.name ? -1 : 1));
}

export async function resolveEntry(ctx: StoreContext, ref: string): Promise<EntryRecord> {
  if (!(await storeExists(ctx)))
    throw new PstoreError(
      'EPSTORE_NOT_FOUND',
      `no entry matches ${JSON.stringify(ref)} (there is no store at ${ctx.root})`,
      { subject: ref },
    );
  return useIndex(ctx, (db) => resolveRef(db, ref));
}

/** An entry's record, and with the `paths` option every path it ships ({@link Store.info}). */
export interface EntryInfo extends EntryRecord {
  /** with `paths` only: the entry's manifest files, sorted by path */
  paths?: ManifestFile[];
}

export async function entryInfo(
  ctx: StoreContext,
  ref: string,
  opts: { paths?: boolean } = {},
): Promise<EntryInfo> {
  const record = await resolveEntry(ctx, ref);
  if (!opts.paths) return record;
  const manifest = await readManifestFile(ctx.layout, record.id);
  return { ...record, paths: manifest.files };
}
