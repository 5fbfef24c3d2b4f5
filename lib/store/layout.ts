// The one owner of the store's on-disk names (SPEC.md §Store layout). Format versions live in folder
// names, so a future format is added beside the old one instead of rewriting it.

import path from 'node:path';

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
 * An object is a file's bytes plus its executable bit: hard links share one inode, so an
 * executable and a plain file with equal bytes need two objects. Key: sha512 hex, `-x` if exec.
 */
export function objectKey(hex: string, exec: boolean): string {
  return exec ? `${hex}-x` : hex;
}

export function objectPath(layout: StoreLayout, key: string): string {
  return path.join(layout.objects, key.slice(0, 2), key.slice(2));
}

export function parseObjectKey(key: string): { hex: string; exec: boolean } {
  return key.endsWith('-x') ? { hex: key.slice(0, -2), exec: true } : { hex: key, exec: false };
}

export function manifestPath(layout: StoreLayout, id: string): string {
  return path.join(layout.entries, id.slice(0, 2), `${id.slice(2)}.json`);
}
