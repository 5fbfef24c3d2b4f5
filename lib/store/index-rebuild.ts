// The index is a cache of the manifest files (SPEC.md §Index). Rebuild: each manifest becomes an
// entry again, and the manifests' mtimes (touched on every add) restore which add of a
// name@version was the latest. Reconcile: manifests the index lacks (the tail of LevelDB's log
// lost, an add killed between its manifest and its index batch) are registered, never dropped.

import { crashpoint } from '../core/crashpoint.js';
import { identifyManifest, summarizeManifest } from '../core/manifest.js';
import type { StoreLayout } from './layout.js';
import {
  listManifestFiles,
  listManifestIds,
  readManifestFile,
  statManifestFiles,
  type ManifestFileInfo,
} from './manifests.js';
import type { EntryRecord } from '../core/types.js';
import { listEntryIds, registerEntry } from './index-entries.js';
import type { IndexDb } from './index-db.js';

export type UnindexedRecord = Omit<EntryRecord, 'seq' | 'lastAddedAt'>;

export async function rebuildIndex(layout: StoreLayout, db: IndexDb): Promise<number> {
  return registerRecords(db, await recordsOf(layout, await listManifestFiles(layout)));
}

/** Records for readable manifests the index does not hold, oldest add first (nothing written). */
export async function unindexedManifests(
  layout: StoreLayout,
  db: IndexDb,
): Promise<UnindexedRecord[]> {
  const indexed = new Set(await listEntryIds(db));
  const missing = (await listManifestIds(layout)).filter((id) => !indexed.has(id));
  if (missing.length === 0) return [];
  return recordsOf(layout, await statManifestFiles(layout, missing));
}

/** Register every manifest the index lacks; returns how many. */
export async function reconcileIndex(layout: StoreLayout, db: IndexDb): Promise<number> {
  return registerRecords(db, await unindexedManifests(layout, db));
}

async function registerRecords(db: IndexDb, records: UnindexedRecord[]): Promise<number> {
  for (const r of records) {
    await registerEntry(db, r);
    crashpoint('index:after-register');
  }
  return records.length;
}

async function recordsOf(
  layout: StoreLayout,
  files: ManifestFileInfo[],
): Promise<UnindexedRecord[]> {
  const out: UnindexedRecord[] = [];
  for (const { id, mtimeMs } of [...files].sort((a, b) => a.mtimeMs - b.mtimeMs)) {
    let manifest;
    try {
      manifest = await readManifestFile(layout, id);
    } catch {
      continue; // a damaged manifest is not an entry; gc removes the file as an orphan
    }
    out.push({
      id,
      name: manifest.name,
      version: manifest.version,
      integrity: identifyManifest(manifest).integrity,
      markers: manifest.markers,
      ...summarizeManifest(manifest),
      addedAt: new Date(mtimeMs).toISOString(),
    });
  }
  return out;
}
