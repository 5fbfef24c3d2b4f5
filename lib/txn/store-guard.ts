// A prefix may contain the store (`--prefix ~/.local`, store `~/.local/share/pstore`), but no
// transaction may write, replace or remove anything in the store's subtree, nor replace a
// directory above it (a package file or symlink at `share` would take the store with it). Checked
// on the plan, before any change: EPSTORE_CONFLICT naming the path. Deactivating a package that
// shipped such a path before this rule existed is refused the same way: it would delete objects.

import path from 'node:path';
import { PstoreError } from '../core/errors.js';
import type { TouchedPaths } from './plan-paths.js';

const within = (rel: string, dir: string) => rel === dir || rel.startsWith(`${dir}/`);

export function refuseStoreTouch(
  root: string,
  storeRel: string | undefined,
  touched: TouchedPaths,
): void {
  if (storeRel === undefined || storeRel === '') return; // not inside; '' (the store itself) is refused at open
  const store = path.join(root, storeRel);
  const conflict = (rel: string, why: string) =>
    new PstoreError('EPSTORE_CONFLICT', `${path.join(root, rel)} ${why} ${store}`, {
      subject: path.join(root, rel),
      data: { path: rel, store },
    });
  for (const rel of [...touched.created, ...touched.replaced, ...touched.dirs]) {
    if (within(rel, storeRel)) throw conflict(rel, 'lies inside the store');
  }
  for (const rel of touched.replaced) {
    if (within(storeRel, rel))
      throw conflict(rel, 'would be replaced or removed, and with it the store');
  }
}
