// Snapshots of a directory: every path with its type, mode and a hash of its bytes (or symlink
// target), to prove that something left a store or a tree unchanged.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { sha256Hex, walkTree, type WalkEntry } from './tree.js';

export type Snapshot = Record<string, string>;

export interface SnapshotOptions {
  /** top-level names to leave out */
  exclude?: readonly string[];
  /** record directories too (default true) */
  dirs?: boolean;
}

export async function snapshotDir(root: string, opts: SnapshotOptions = {}): Promise<Snapshot> {
  const out: Snapshot = {};
  const exclude = new Set(opts.exclude ?? []);
  const withDirs = opts.dirs ?? true;
  let entries: WalkEntry[];
  try {
    entries = await walkTree(
      root,
      (name, parent) =>
        (parent === '' && exclude.has(name)) || isOwnershipIndex(name, path.join(root, parent)),
    );
  } catch (err) {
    if (
      (err as NodeJS.ErrnoException).code === 'ENOENT' &&
      (err as { path?: string }).path === root
    )
      return out;
    throw err;
  }
  for (const { rel, abs, st } of entries) {
    const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
    if (st.isDirectory()) {
      if (withDirs) out[`${rel}/`] = `dir ${mode}`;
    } else if (st.isSymbolicLink()) {
      out[rel] = `symlink -> ${await fsp.readlink(abs)}`;
    } else if (st.isFile()) {
      out[rel] = `file ${mode} ${st.size} ${sha256Hex(await fsp.readFile(abs))}`;
    } else {
      out[rel] = `special ${mode}`;
    }
  }
  return out;
}

/**
 * A store's durable state: objects, manifests and tmp files with modes and hashes. LevelDB's own
 * files (index-v1/) change on every open, and the lock file is not state, so both are left out
 * (compare `ls --json` for the index), as are index builds beside it; directories are left out
 * because gc keeps empty shards.
 */
export async function storeSnapshot(store: string): Promise<Snapshot> {
  const snap = await snapshotDir(store, { exclude: ['index-v1', 'locks'], dirs: false });
  // index builds in progress (or left by a killed rebuild) live beside it as index-v1.build-*
  for (const k of Object.keys(snap)) if (k.startsWith('index-v1.')) delete snap[k];
  return snap;
}

/** Paths added, removed or changed between two snapshots. */
export function diffSnapshots(
  before: Snapshot,
  after: Snapshot,
): { added: string[]; removed: string[]; changed: string[] } {
  const added = Object.keys(after).filter((k) => !(k in before));
  const removed = Object.keys(before).filter((k) => !(k in after));
  const changed = Object.keys(after).filter((k) => k in before && before[k] !== after[k]);
  return { added, removed, changed };
}

/**
 * A prefix's ownership index is a cache (SPEC.md §Ownership index) in LevelDB, which rewrites its
 * log and manifest files whenever it is opened: its bytes say nothing about the prefix.
 */
function isOwnershipIndex(name: string, parentAbs: string): boolean {
  return name === 'ownership-v1' && path.basename(parentAbs).startsWith('.pstore');
}
