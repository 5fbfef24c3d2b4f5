// Manifest files under entries-v1/: the durable record of every entry. Written once, atomically
// and fsynced, only after every object they name is durable (SPEC.md §Durability), so a manifest
// file on disk always describes a complete entry. The index is rebuilt from these if lost.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { PstoreError, errnoCode, isPstoreError } from '../core/errors.js';
import { fsyncDir, writeFileAtomic } from '../fs/atomic.js';
import { readdirOrEmpty } from '../fs/dir.js';
import { readWhole } from '../fs/read-whole.js';
import { parseManifest } from '../core/manifest.js';
import type { Manifest } from '../core/types.js';
import { manifestPath, type StoreLayout } from './layout.js';

export async function writeManifestFile(
  layout: StoreLayout,
  id: string,
  bytes: string,
): Promise<void> {
  const file = manifestPath(layout, id);
  // Present already with the same bytes: touch it so a rebuilt index orders adds correctly. With
  // other bytes (damaged) it is rewritten like a missing one: re-adding the content repairs it.
  if ((await readIfPresent(file)) === bytes) return touch(file);
  const madeShard = await fsp.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, bytes, 0o444);
  if (madeShard !== undefined) await fsyncDir(layout.entries);
}

async function touch(file: string): Promise<void> {
  const now = new Date();
  try {
    await fsp.utimes(file, now, now);
  } catch (err) {
    const code = errnoCode(err);
    if (code !== 'EPERM' && code !== 'EACCES') throw err; // another user's manifest: order unchanged
  }
}

async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

export async function readManifestFile(layout: StoreLayout, id: string): Promise<Manifest> {
  // Read as bytes, hashed as read and decoded once: a string hashed is encoded to UTF-8 again
  // (measured: ~0.5 s CPU more for a 100k-file manifest).
  let bytes: Buffer;
  try {
    bytes = readWhole(manifestPath(layout, id));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') {
      throw new PstoreError(
        'EPSTORE_INTEGRITY',
        `the manifest of entry ${id} is missing from the store`,
        { subject: id, cause: err, data: { reason: 'missing' } },
      );
    }
    throw err;
  }
  try {
    return parseManifest(bytes.toString('utf8'), id, { trustedTree: true, bytes });
  } catch (err) {
    throw withRepairHint(err, id);
  }
}

/** A damaged manifest's error says how to mend it, whichever command met it (info, export...). */
function withRepairHint(err: unknown, id: string): unknown {
  if (!isPstoreError(err, 'EPSTORE_INTEGRITY') || err.hint !== undefined) return err;
  return new PstoreError(err.code, err.message, {
    ...(err.subject === undefined ? {} : { subject: err.subject }),
    hint: `run \`pstore verify --repair\`, then re-add or import entry ${id}`,
    cause: err,
    ...(err.data === undefined ? {} : { data: err.data }),
  });
}

export async function removeManifestFile(layout: StoreLayout, id: string): Promise<void> {
  await fsp.rm(manifestPath(layout, id), { force: true });
}

export interface ManifestFileInfo {
  id: string;
  /** the time of its latest add, by the adding process's clock (add touches it) */
  mtimeMs: number;
  /** set by the kernel on every write or touch: a clock no process can fake (gc's grace) */
  ctimeMs: number;
}

/** Every manifest file's id, from directory listings alone (no stat). */
export async function listManifestIds(layout: StoreLayout): Promise<string[]> {
  const out: string[] = [];
  for (const shard of await readdirOrEmpty(layout.entries)) {
    for (const name of await readdirOrEmpty(path.join(layout.entries, shard))) {
      if (name.endsWith('.json') && !name.startsWith('.'))
        out.push(shard + name.slice(0, -'.json'.length));
    }
  }
  return out;
}

/** Every manifest file's id with its times. */
export async function listManifestFiles(layout: StoreLayout): Promise<ManifestFileInfo[]> {
  return statManifestFiles(layout, await listManifestIds(layout));
}

/** The times of these manifest files; one that vanished meanwhile (gc) is left out. */
export async function statManifestFiles(
  layout: StoreLayout,
  ids: readonly string[],
): Promise<ManifestFileInfo[]> {
  const out: ManifestFileInfo[] = [];
  for (const id of ids) {
    const st = await fsp.stat(manifestPath(layout, id)).catch((err: unknown) => {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    });
    if (st) out.push({ id, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs });
  }
  return out;
}
