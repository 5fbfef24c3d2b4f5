// Putting back what `--overwrite` took over (SPEC.md §Overwrite): when a transaction that took files
// over is reverted, and when `rollback` moves an `inplace` prefix to a generation older than the
// one that took them, after the packages' files are gone. Each step converges, so recovery may
// run it again: a path that holds anything is left alone (already restored, or someone's new file).

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { syncFilesystem, tempPath } from '../fs/atomic.js';
import type { PrefixPaths } from '../prefix/layout.js';
import type { SavedPath } from '../prefix/overwritten.js';
import { listGenerationNumbers, readGeneration } from '../prefix/state.js';
import { fileObjectPath, type StoreLayout } from '../store/layout.js';
import { ensureDir } from './place.js';

export async function restoreSaved(
  store: StoreLayout,
  root: string,
  txid: string,
  saved: readonly SavedPath[] | undefined,
): Promise<void> {
  let restored = 0;
  for (const s of saved ?? []) if (await restoreOne(store, root, txid, s)) restored++;
  if (restored > 0) await syncFilesystem(root);
}

async function restoreOne(
  store: StoreLayout,
  root: string,
  txid: string,
  s: SavedPath,
): Promise<boolean> {
  const abs = path.join(root, s.path);
  if (
    await fsp.lstat(abs).then(
      () => true,
      () => false,
    )
  )
    return false;
  await ensureParents(root, s.path);
  // Built whole under a temp name (swept by recovery) and renamed in: never seen half-written.
  const tmp = tempPath(path.dirname(abs), 'tmp', txid, Math.random().toString(36).slice(2, 10));
  try {
    if (s.type === 'symlink') await fsp.symlink(s.target, tmp);
    else {
      await fsp.copyFile(fileObjectPath(store, s), tmp);
      await fsp.chmod(tmp, s.mode);
    }
    await fsp.rename(tmp, abs);
  } finally {
    await fsp.rm(tmp, { force: true });
  }
  return true;
}

/** mkdir each missing parent, one component at a time: a symlink on the way is never followed. */
async function ensureParents(root: string, rel: string): Promise<void> {
  const parts = rel.split('/').slice(0, -1);
  for (let i = 1; i <= parts.length; i++) ensureDir(path.join(root, ...parts.slice(0, i)));
}

/**
 * What moving from generation `from` back to `to` puts back: the files taken over by generations
 * after `to` up to `from`, each path as the oldest of them found it, unless `to` owns the path.
 */
export async function savedToRestore(
  p: PrefixPaths,
  from: number,
  to: number,
  ownedByTarget: ReadonlyMap<string, unknown>,
): Promise<SavedPath[]> {
  if (to >= from) return [];
  const byPath = new Map<string, SavedPath>();
  for (const n of await listGenerationNumbers(p)) {
    if (n <= to || n > from) continue;
    for (const s of (await readGeneration(p, n))?.overwritten ?? [])
      if (!byPath.has(s.path) && !ownedByTarget.has(s.path)) byPath.set(s.path, s);
  }
  return [...byPath.values()];
}
