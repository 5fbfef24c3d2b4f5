// `export`: write entries, their manifests and every object they need into one bundle (bundle.ts).
// Members are staged as hard links in <store>/tmp (same filesystem, no copying) and packed by
// node-tar with fixed metadata; the store lock is held shared so gc cannot remove them meanwhile.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { create as tarCreate } from 'tar';
import { identifyManifest } from '../core/manifest.js';
import { TEMP_PREFIX } from '../core/names.js';
import { lockStore, type StoreContext } from '../store/context.js';
import { fileObjectKey } from '../core/object-key.js';
import { manifestPath, objectPath } from '../store/layout.js';
import { readManifestFile } from '../store/manifests.js';
import type { EntryRecord } from '../core/types.js';
import {
  BUNDLE_DESCRIPTOR,
  BUNDLE_VERSION,
  serializeDescriptor,
  type BundleDescriptor,
} from './bundle.js';

export interface ExportResult {
  file: string;
  entries: Array<{ id: string; name: string; version: string }>;
  objects: number;
  bytes: number;
}

export async function exportBundle(
  ctx: StoreContext,
  entries: readonly EntryRecord[],
  file: string,
): Promise<ExportResult> {
  await using _lock = await lockStore(ctx, 'shared');
  const stage = path.join(ctx.layout.tmp, `export-${randomBytes(6).toString('hex')}`);
  await fsp.mkdir(path.join(stage, 'entries'), { recursive: true });
  await fsp.mkdir(path.join(stage, 'objects'));
  try {
    const keys = new Set<string>();
    const sorted = [...new Map(entries.map((e) => [e.id, e])).values()].sort((a, b) =>
      a.id < b.id ? -1 : 1,
    );
    const descriptor: BundleDescriptor = { bundleVersion: BUNDLE_VERSION, entries: [] };
    for (const e of sorted) {
      const manifest = await readManifestFile(ctx.layout, e.id);
      descriptor.entries.push({
        id: e.id,
        name: e.name,
        version: e.version,
        integrity: identifyManifest(manifest).integrity,
      });
      await fsp.link(manifestPath(ctx.layout, e.id), path.join(stage, 'entries', `${e.id}.json`));
      for (const f of manifest.files) if (f.type === 'file') keys.add(fileObjectKey(f));
    }
    let bytes = 0;
    const objectNames = [...keys].sort();
    for (const key of objectNames) {
      const src = objectPath(ctx.layout, key);
      bytes += (await fsp.stat(src)).size;
      await fsp.link(src, path.join(stage, 'objects', key));
    }
    await fsp.writeFile(path.join(stage, BUNDLE_DESCRIPTOR), serializeDescriptor(descriptor));
    const members = [
      BUNDLE_DESCRIPTOR,
      ...sorted.map((e) => `entries/${e.id}.json`),
      ...objectNames.map((k) => `objects/${k}`),
    ];
    const out = path.resolve(file);
    const tmpOut = `${out}${TEMP_PREFIX}tmp-${randomBytes(4).toString('hex')}`;
    try {
      await tarCreate(
        { cwd: stage, file: tmpOut, portable: true, mtime: new Date(0), noDirRecurse: true },
        members,
      );
      const fh = await fsp.open(tmpOut, 'r');
      await fh.sync();
      await fh.close();
      await fsp.rename(tmpOut, out);
    } catch (err) {
      await fsp.rm(tmpOut, { force: true });
      throw err;
    }
    return {
      file: out,
      entries: sorted.map(({ id, name, version }) => ({ id, name, version })),
      objects: objectNames.length,
      bytes,
    };
  } finally {
    await fsp.rm(stage, { recursive: true, force: true });
  }
}
