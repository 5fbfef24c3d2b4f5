// The one owner of the store's on-disk names (SPEC.md §Store layout). Format versions live in folder
// names, so a future format is added beside the old one instead of rewriting it.

import path from 'node:path';
import { threadId } from 'node:worker_threads';
import { fileObjectKey } from '../core/object-key.js';

export const OBJECTS_DIR = 'objects-v1';
export const ENTRIES_DIR = 'entries-v1';
export const INDEX_DIR = 'index-v1';
export const TMP_DIR = 'tmp';
export const LOCKS_DIR = 'locks';
export const PREFIXES_DIR = 'prefixes-v1';

export interface StoreLayout {
  root: string;
  objects: string;
  entries: string;
  index: string;
  tmp: string;
  locks: string;
  prefixes: string;
}

export function storeLayout(root: string): StoreLayout {
  return {
    root,
    objects: path.join(root, OBJECTS_DIR),
    entries: path.join(root, ENTRIES_DIR),
    index: path.join(root, INDEX_DIR),
    tmp: path.join(root, TMP_DIR),
    locks: path.join(root, LOCKS_DIR),
    prefixes: path.join(root, PREFIXES_DIR),
  };
}

/**
 * Where this thread makes its object temps: `tmp/` on the main thread, `tmp/t<threadId>/` in a
 * worker. Creating a file holds its directory's lock while the filesystem allocates the inode, and
 * ext4 makes that slow after many deletions (it skips inodes freed in the last minute or more, one
 * by one): two threads creating in one directory then wait on each other, in their own they don't.
 */
export function threadTmpDir(layout: StoreLayout): string {
  return threadId === 0 ? layout.tmp : `${layout.tmp}/t${threadId}`;
}

/** Where the object with this key (core/object-key.ts) lives. */
export function objectPath(layout: StoreLayout, key: string): string {
  // a key is hex (and `-x`): nothing to normalize, and this runs once per file placed
  return `${layout.objects}/${key.slice(0, 2)}/${key.slice(2)}`;
}

/** Where the object holding a manifest's regular file lives. */
export function fileObjectPath(
  layout: StoreLayout,
  f: { integrity: string; exec: boolean },
): string {
  return objectPath(layout, fileObjectKey(f));
}

export function manifestPath(layout: StoreLayout, id: string): string {
  return path.join(layout.entries, id.slice(0, 2), `${id.slice(2)}.json`);
}
