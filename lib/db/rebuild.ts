// Rebuild a lost index from the manifest files: each manifest becomes an entry again, and the
// manifests' mtimes (touched on every add) restore which add of a name@version was the latest.

import { identifyManifest, summarizeManifest } from '../ingest/manifest.js';
import type { StoreLayout } from '../store/layout.js';
import { listManifestFiles, readManifestFile } from '../store/manifests.js';
import { registerEntry } from './entries.js';
import type { IndexDb } from './index-db.js';

export async function rebuildIndex(layout: StoreLayout, db: IndexDb): Promise<number> {
  const files = (await listManifestFiles(layout)).sort((a, b) => a.mtimeMs - b.mtimeMs);
  let count = 0;
  for (const { id, mtimeMs } of files) {
    let manifest;
    try {
      manifest = await readManifestFile(layout, id);
    } catch {
      continue; // a damaged manifest is not an entry; gc removes the file as an orphan
    }
    const ident = identifyManifest(manifest);
    await registerEntry(db, {
      id,
      name: manifest.name,
      version: manifest.version,
      integrity: ident.integrity,
      markers: manifest.markers,
      ...summarizeManifest(manifest),
      addedAt: new Date(mtimeMs).toISOString(),
    });
    count++;
  }
  return count;
}
