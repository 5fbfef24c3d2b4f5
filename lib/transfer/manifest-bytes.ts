// An entry's manifest as the bytes the store holds, for a transfer that sends them as they are
// (a push's config blob): a manifest file that hashes to its id is canonical, so it needs neither
// parsing nor serializing again (at 100k files each is a copy of tens of MB).

import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { identityOfDigest } from '../core/manifest.js';
import { PstoreError } from '../core/errors.js';
import { manifestPath, type StoreLayout } from '../store/layout.js';
import { readManifestFile } from '../store/manifests.js';

/**
 * The integrity of manifest bytes already found canonical (parseManifest checked them): what
 * identifyManifest gives, without building and serializing the manifest again.
 */
export function canonicalIntegrity(bytes: string | Buffer): string {
  return identityOfDigest(createHash('sha512').update(bytes).digest()).integrity;
}

/** The canonical bytes of entry `id`'s manifest and their integrity (`sha512-BASE64`). */
export async function readManifestBytes(
  layout: StoreLayout,
  id: string,
): Promise<{ bytes: Buffer; integrity: string }> {
  const bytes = await fsp.readFile(manifestPath(layout, id)).catch(() => undefined);
  const found = bytes && identityOfDigest(createHash('sha512').update(bytes).digest());
  if (bytes && found?.id === id) return { bytes, integrity: found.integrity };
  // Missing, unreadable or damaged: the store's own reader says which, with its typed error.
  await readManifestFile(layout, id);
  throw new PstoreError('EPSTORE_INTEGRITY', `manifest ${id} changed while it was read`, {
    subject: id,
    data: { reason: 'corrupt' },
  });
}
