// Where pstore keeps its own state for a prefix (SPEC.md §Prefix layout). Every name pstore puts
// inside a prefix starts with `.pstore`, so no reader mistakes it for a package file or a marker.
//   inplace:      DIR is a real directory; state in DIR/.pstore/
//   generations:  DIR is a symlink to a tree; state and trees beside it in PARENT/.pstore-BASE/

import path from 'node:path';
import { RESERVED_PREFIX, TEMP_PREFIX, type LayoutKind } from '../core/names.js';

export interface PrefixPaths {
  /** the prefix as the user named it, absolute */
  dir: string;
  layout: LayoutKind;
  /** pstore's state directory for this prefix */
  meta: string;
  lock: string;
  journal: string;
  prefixFile: string;
  current: string;
  generations: string;
  trees: string;
  /** the ownership index (a cache of the active manifests; lib/txn/ownership/) */
  ownership: string;
}

export function prefixPaths(dir: string, layout: LayoutKind): PrefixPaths {
  const abs = path.resolve(dir);
  const meta =
    layout === 'inplace'
      ? path.join(abs, RESERVED_PREFIX)
      : path.join(path.dirname(abs), `${TEMP_PREFIX}${path.basename(abs)}`);
  return {
    dir: abs,
    layout,
    meta,
    lock: path.join(meta, 'lock'),
    journal: path.join(meta, 'journal.json'),
    prefixFile: path.join(meta, 'prefix.json'),
    current: path.join(meta, 'current.json'),
    generations: path.join(meta, 'generations'),
    trees: path.join(meta, 'trees'),
    ownership: path.join(meta, 'ownership-v1'),
  };
}

export function generationFile(p: PrefixPaths, n: number): string {
  return path.join(p.generations, `${n}.json`);
}

export function treeDir(p: PrefixPaths, n: number): string {
  return path.join(p.trees, String(n));
}
