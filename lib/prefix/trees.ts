// The trees of a `generations` prefix (SPEC.md §Generations layout) and the one rule about them:
// the name trees/N only ever holds a complete tree. A tree is built under a temp name beside it
// (trees/.pstore-tmp-N-<txid>), flushed, then renamed to trees/N (publishTree); a tree goes by
// first being renamed to a trash name (trees/.pstore-trash-N-<r>) and only then deleted
// (removeGenerationTree). So "trees/N is a real directory" is the proof that it is complete, and
// a crash at any instant leaves either the whole tree under its name or none of it.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import pMap from 'p-map';
import { PstoreError, errnoCode } from '../core/errors.js';
import { fsyncDir, tempPath } from '../fs/atomic.js';
import { crashpoint } from '../core/crashpoint.js';
import { TEMP_PREFIX } from '../core/names.js';
import { treeDir, type PrefixPaths } from './layout.js';

/** Where generation N's tree is built before it is published under trees/N. */
export function treeBuildDir(p: PrefixPaths, n: number, txid: string): string {
  return tempPath(p.trees, 'tmp', n, txid);
}

/** Give a built and flushed tree its name: from now on trees/N is complete. */
export async function publishTree(p: PrefixPaths, built: string, n: number): Promise<void> {
  await fsp.rename(built, treeDir(p, n));
  await fsyncDir(p.trees);
  crashpoint('tree:after-publish');
}

export async function treeIsComplete(p: PrefixPaths, n: number): Promise<boolean> {
  const st = await fsp.lstat(treeDir(p, n)).catch((err: unknown) => {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
    throw err;
  });
  return st?.isDirectory() ?? false;
}

/** Refuse to make generation N current unless its tree is there whole (exit 4 naming it). */
export async function requireCompleteTree(p: PrefixPaths, n: number): Promise<void> {
  if (await treeIsComplete(p, n)) return;
  throw new PstoreError(
    'EPSTORE_INTEGRITY',
    `generation ${n} of ${p.dir} has no complete tree (${treeDir(p, n)} is missing); it cannot be made current`,
    {
      subject: String(n),
      data: { reason: 'missing', generation: n, tree: treeDir(p, n) },
    },
  );
}

/** Make trees/N unreachable by name in one durable step, then delete it at leisure. */
export async function removeGenerationTree(p: PrefixPaths, n: number): Promise<void> {
  const trash = tempPath(p.trees, 'trash', n, Math.random().toString(36).slice(2, 10));
  try {
    await fsp.rename(treeDir(p, n), trash);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw err;
  }
  await fsyncDir(p.trees);
  crashpoint('tree:after-unreachable');
  await deleteTrash(trash);
}

/** Delete a renamed-away tree, entry by entry (crash tests stop it half-way: tree:removing). */
async function deleteTrash(dir: string): Promise<void> {
  const entries = await fsp.readdir(dir, { withFileTypes: true }).catch(() => []);
  await pMap(
    entries,
    async (e) => {
      const abs = path.join(dir, e.name);
      if (e.isDirectory()) await deleteTrash(abs);
      else await fsp.rm(abs, { force: true });
      crashpoint('tree:removing');
    },
    { concurrency: 16 },
  );
  await fsp.rm(dir, { recursive: true, force: true });
}

/**
 * Remove what crashed writers left in trees/: half-built trees and half-deleted trash. Only under
 * the writer lock (nobody else builds or deletes trees then), and never a published trees/N.
 */
export async function sweepTreeLeftovers(p: PrefixPaths): Promise<void> {
  const names = await fsp.readdir(p.trees).catch(() => [] as string[]);
  for (const n of names.filter((x) => x.startsWith(TEMP_PREFIX)))
    await fsp.rm(path.join(p.trees, n), { recursive: true, force: true });
}

/** The generation numbers that have a tree under their own name. */
export async function listTreeNumbers(p: PrefixPaths): Promise<number[]> {
  const names = await fsp.readdir(p.trees).catch(() => [] as string[]);
  return names
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .sort((a, b) => a - b);
}
