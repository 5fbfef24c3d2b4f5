// Where pstore keeps its own state for a prefix (SPEC.md §Prefix layout). Every name pstore puts
// inside a prefix starts with `.pstore`, so no reader mistakes it for a package file or a marker.
//   inplace:      DIR is a real directory; state in DIR/.pstore/
//   generations:  DIR is a symlink to a tree; state and trees beside it in PARENT/.pstore-BASE/

import path from 'node:path';

export type LayoutKind = 'inplace' | 'generations';

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
}

export const TEMP_PREFIX = '.pstore-';

export function prefixPaths(dir: string, layout: LayoutKind): PrefixPaths {
  const abs = path.resolve(dir);
  const meta = layout === 'inplace' ? path.join(abs, '.pstore') : path.join(path.dirname(abs), `.pstore-${path.basename(abs)}`);
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
  };
}

export function generationFile(p: PrefixPaths, n: number): string {
  return path.join(p.generations, `${n}.json`);
}

export function treeDir(p: PrefixPaths, n: number): string {
  return path.join(p.trees, String(n));
}
