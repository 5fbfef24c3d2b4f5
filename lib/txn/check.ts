// Before an `inplace` transaction touches anything: refuse, with EPSTORE_CONFLICT naming the path,
// (1) a path the plan creates that exists and no package owns (directories merge; Python's own
// __pycache__/*.pyc never block), and (2) any symlink among the directories the plan writes in,
// whoever owns it and wherever it leads: pstore never writes through a symlink.
// Cost: one lstat per distinct directory and one readdir per existing directory receiving new
// names, never one syscall per file.

import { promises as fsp, type Dirent } from 'node:fs';
import path from 'node:path';
import { PstoreError, errnoCode } from '../core/errors.js';
import { TEMP_PREFIX } from '../core/names.js';
import { groupBy } from '../core/group-by.js';
import type { ConflictSink, Plan } from './plan.js';

type DirState = 'dir' | 'absent';

function conflict(p: string, why: string): PstoreError {
  return new PstoreError('EPSTORE_CONFLICT', `${p} ${why}`, { subject: p });
}

export async function checkPrefix(
  root: string,
  plan: Plan,
  ownedBefore: ReadonlySet<string>,
  onConflict?: ConflictSink,
  /** --overwrite: true for an unowned file or symlink the transaction may take over */
  takeOver?: (rel: string) => boolean,
): Promise<void> {
  // A dry run collects every conflict: a directory found wrong then counts as absent (nothing
  // below it is looked up) and the check goes on.
  const refuse = (err: PstoreError): void => {
    if (!onConflict) throw err;
    onConflict(err);
  };
  const dirs = new Map<string, Promise<DirState>>();
  // A path whose type changes is removed in step (b) before anything is made there.
  const obstacles = new Set(plan.obstacles);
  const dirState = (rel: string): Promise<DirState> => {
    let s = dirs.get(rel);
    if (!s) {
      s = (async () => {
        if (rel !== '') {
          const parent = await dirState(
            path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel),
          );
          if (parent === 'absent') return 'absent';
          if (obstacles.has(rel) && ownedBefore.has(rel)) return 'absent';
        }
        const abs = path.join(root, rel);
        const st = await fsp.lstat(abs).catch((err: unknown) => {
          if (errnoCode(err) === 'ENOENT') return undefined;
          throw err;
        });
        if (!st) return 'absent';
        if (st.isSymbolicLink()) {
          refuse(conflict(abs, 'is a symlink; pstore never writes through symlinks'));
          return 'absent';
        }
        if (!st.isDirectory()) {
          refuse(
            conflict(
              abs,
              ownedBefore.has(rel)
                ? 'is a file where a directory is needed'
                : 'exists, is not a directory, and no package owns it',
            ),
          );
          return 'absent';
        }
        return 'dir';
      })();
      dirs.set(rel, s);
    }
    return s;
  };
  const parentOf = (rel: string) => (rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '');

  // Every directory the plan writes in must be a real directory or not exist yet.
  const touched = [
    ...plan.removeMarkers,
    ...plan.obstacles,
    ...plan.mkdirs,
    ...plan.place.map((p) => p.file.path),
    ...plan.remove,
    ...plan.rmdirs,
    ...plan.placeMarkers.map((u) => u.path),
  ];
  const parents = new Set(touched.map(parentOf));
  for (const d of plan.mkdirs) parents.add(d);
  await Promise.all([...parents].map(dirState));

  // New names must be free, unless what is there is ours (owned before) or Python's bytecode.
  const created = [
    ...plan.place.filter((p) => !p.replace).map((p) => p.file.path),
    ...plan.placeMarkers.map((u) => u.path),
  ];
  const byParent = groupBy(
    created.filter((p) => !ownedBefore.has(p) && !obstacles.has(p)),
    parentOf,
  );
  for (const [parent, names] of byParent) {
    if ((await dirState(parent)) === 'absent') continue;
    const present = new Map<string, Dirent>(
      (await fsp.readdir(path.join(root, parent), { withFileTypes: true })).map((d) => [d.name, d]),
    );
    for (const rel of names) {
      const d = present.get(path.posix.basename(rel));
      if (!d || isBytecode(rel) || d.name.startsWith(TEMP_PREFIX)) continue;
      if ((d.isFile() || d.isSymbolicLink()) && takeOver?.(rel)) continue;
      refuse(conflict(path.join(root, rel), 'exists and no package owns it'));
    }
  }
  // New directories may merge with existing ones (checked above) but not replace files.
  for (const d of plan.mkdirs) await dirState(d);
  // A directory whose path becomes a file or symlink goes whole in step (b): it must hold nothing
  // but what packages put there (and Python's bytecode), or someone's files would go with it.
  for (const rel of plan.obstacles) {
    const abs = path.join(root, rel);
    if (!(await fsp.lstat(abs).catch(() => undefined))?.isDirectory()) continue;
    const stray = await firstUnowned(root, rel, ownedBefore);
    if (stray !== undefined)
      refuse(
        conflict(
          path.join(root, stray),
          'exists and no package owns it (its directory would be replaced)',
        ),
      );
  }
  // Directories to remove must be directories (a symlink in their place is not followed).
  for (const d of plan.rmdirs) await dirState(d);
  // Files to replace or remove must still be files or symlinks: a directory someone put there holds
  // their data, which pstore neither deletes nor renames over.
  const expectLeaf = [
    ...plan.place.filter((p) => p.replace).map((p) => p.file.path),
    ...plan.remove,
  ].filter((p) => !obstacles.has(p));
  for (const [parent, names] of groupBy(expectLeaf, parentOf)) {
    if ((await dirState(parent)) === 'absent') continue;
    const present = new Map<string, Dirent>(
      (await fsp.readdir(path.join(root, parent), { withFileTypes: true })).map((d) => [d.name, d]),
    );
    for (const rel of names) {
      if (present.get(path.posix.basename(rel))?.isDirectory())
        refuse(
          conflict(
            path.join(root, rel),
            'is a directory where a package file was; pstore will not remove it',
          ),
        );
    }
  }
}

async function firstUnowned(
  root: string,
  dir: string,
  owned: ReadonlySet<string>,
): Promise<string | undefined> {
  for (const d of await fsp.readdir(path.join(root, dir), { withFileTypes: true })) {
    const rel = `${dir}/${d.name}`;
    if (d.name === '__pycache__' || isBytecode(rel)) continue;
    if (!owned.has(rel)) return rel;
    if (d.isDirectory()) {
      const deeper = await firstUnowned(root, rel, owned);
      if (deeper !== undefined) return deeper;
    }
  }
  return undefined;
}

function isBytecode(rel: string): boolean {
  return rel.endsWith('.pyc') && rel.split('/').includes('__pycache__');
}
