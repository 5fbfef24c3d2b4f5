// Before an `inplace` transaction touches anything: refuse, with EPSTORE_CONFLICT naming the path,
// (1) a path the plan creates that exists and no package owns (directories merge; Python's own
// __pycache__/*.pyc never block), and (2) any symlink among the directories the plan writes in,
// whoever owns it and wherever it leads: pstore never writes through a symlink.
// Cost: one lstat per distinct directory (synchronous, parents first, none below an absent one) and
// one readdir per existing directory receiving new names, never one syscall per file; one pass over
// the placed files finds their parents and the new names to look at.

import fs, { promises as fsp, type Dirent } from 'node:fs';
import path from 'node:path';
import { PstoreError } from '../core/errors.js';
import { TEMP_PREFIX } from '../core/names.js';
import { groupBy } from '../core/group-by.js';
import { parentOf } from '../core/safe-path.js';
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
  const check = new PrefixCheck(root, plan, ownedBefore, onConflict);
  // Every directory the plan writes in must be a real directory or not exist yet; the new names in
  // the existing ones must be free.
  check.newNamesFree(takeOver, check.parentsOf(plan));
  // New directories may merge with existing ones (checked above) but not replace files.
  for (const d of plan.mkdirs) check.dirState(d);
  await check.obstaclesHoldOnlyOwned(plan.obstacles);
  // Directories to remove must be directories (a symlink in their place is not followed).
  for (const d of plan.rmdirs) check.dirState(d);
  check.leavesStillLeaves(plan);
}

/**
 * parentOf for paths in manifest order, where siblings mostly follow each other: a sibling of the
 * last path gets the same string back, neither sliced again nor hashed again by the maps it keys.
 */
function parentsInOrder(): (rel: string) => string {
  let last = '';
  return (rel) => {
    const at = rel.lastIndexOf('/');
    if (at < 0) return '';
    if (at === last.length && rel.startsWith(last)) return last;
    return (last = rel.slice(0, at));
  };
}

/** The new names of the plan in each existing directory, by directory. */
type NamesByParent = Map<string, string[]>;

/** One prefix check: what it found of each directory, looked up once. */
class PrefixCheck {
  private readonly dirs = new Map<string, DirState>();
  /** A path whose type changes is removed in step (b) before anything is made there. */
  private readonly obstacles: ReadonlySet<string>;

  constructor(
    private readonly root: string,
    plan: Plan,
    private readonly ownedBefore: ReadonlySet<string>,
    private readonly onConflict: ConflictSink | undefined,
  ) {
    this.obstacles = new Set(plan.obstacles);
  }

  /**
   * A dry run collects every conflict: a directory found wrong then counts as absent (nothing
   * below it is looked up) and the check goes on.
   */
  private refuse(err: PstoreError): void {
    if (!this.onConflict) throw err;
    this.onConflict(err);
  }

  dirState(rel: string): DirState {
    let s = this.dirs.get(rel);
    if (s === undefined) {
      s = this.lookUp(rel);
      this.dirs.set(rel, s);
    }
    return s;
  }

  /**
   * An absent parent answers for its children: a directory the plan creates has nothing below.
   * Synchronous: a directory's lstat is cheaper than a promise, and there is one per directory.
   */
  private lookUp(rel: string): DirState {
    if (rel !== '') {
      if (this.dirState(parentOf(rel)) === 'absent') return 'absent';
      if (this.obstacles.has(rel) && this.ownedBefore.has(rel)) return 'absent';
    }
    const abs = path.join(this.root, rel);
    const st = fs.lstatSync(abs, { throwIfNoEntry: false });
    if (!st) return 'absent';
    if (st.isSymbolicLink()) {
      this.refuse(conflict(abs, 'is a symlink; pstore never writes through symlinks'));
      return 'absent';
    }
    if (!st.isDirectory()) {
      const why = this.ownedBefore.has(rel)
        ? 'is a file where a directory is needed'
        : 'exists, is not a directory, and no package owns it';
      this.refuse(conflict(abs, why));
      return 'absent';
    }
    return 'dir';
  }

  /**
   * Look up every directory the plan writes in, and gather the new names it makes in those that
   * exist (a name in an absent one is passed over: nothing can be there). The placed files are
   * read once, siblings sharing their parent's lookup.
   */
  parentsOf(plan: Plan): NamesByParent {
    const note = (rel: string) => this.dirState(parentOf(rel));
    for (const list of [plan.removeMarkers, plan.obstacles, plan.mkdirs, plan.remove, plan.rmdirs])
      list.forEach(note);
    for (const d of plan.mkdirs) this.dirState(d);
    const byParent: NamesByParent = new Map();
    const parentIn = parentsInOrder();
    let last: string | undefined;
    let exists = false; // whether `last` is a directory on disk
    const consider = (rel: string, isNew: boolean) => {
      const parent = parentIn(rel);
      if (parent !== last) {
        last = parent;
        exists = this.dirState(parent) === 'dir';
      }
      if (!isNew || !exists || this.ownedBefore.has(rel) || this.obstacles.has(rel)) return;
      const names = byParent.get(parent);
      if (names) names.push(rel);
      else byParent.set(parent, [rel]);
    };
    for (const p of plan.place) consider(p.file.path, !p.replace);
    for (const u of plan.placeMarkers) consider(u.path, true);
    return byParent;
  }

  /** The entries of an existing directory, by name: one readdir, undefined when it is absent. */
  private entries(parent: string): Map<string, Dirent> | undefined {
    if (this.dirState(parent) === 'absent') return undefined;
    const list = fs.readdirSync(path.join(this.root, parent), { withFileTypes: true });
    return new Map(list.map((d) => [d.name, d]));
  }

  /** New names must be free, unless what is there is ours (owned before) or Python's bytecode. */
  newNamesFree(takeOver: ((rel: string) => boolean) | undefined, byParent: NamesByParent): void {
    for (const [parent, names] of byParent) {
      const present = this.entries(parent);
      if (!present) continue;
      for (const rel of names) {
        const d = present.get(path.posix.basename(rel));
        if (!d || isBytecode(rel) || d.name.startsWith(TEMP_PREFIX)) continue;
        if ((d.isFile() || d.isSymbolicLink()) && takeOver?.(rel)) continue;
        this.refuse(conflict(path.join(this.root, rel), 'exists and no package owns it'));
      }
    }
  }

  /**
   * A directory whose path becomes a file or symlink goes whole in step (b): it must hold nothing
   * but what packages put there (and Python's bytecode), or someone's files would go with it.
   */
  async obstaclesHoldOnlyOwned(obstacles: readonly string[]): Promise<void> {
    for (const rel of obstacles) {
      const abs = path.join(this.root, rel);
      if (!(await fsp.lstat(abs).catch(() => undefined))?.isDirectory()) continue;
      const stray = await firstUnowned(this.root, rel, this.ownedBefore);
      if (stray !== undefined)
        this.refuse(
          conflict(
            path.join(this.root, stray),
            'exists and no package owns it (its directory would be replaced)',
          ),
        );
    }
  }

  /**
   * Files to replace or remove must still be files or symlinks: a directory someone put there
   * holds their data, which pstore neither deletes nor renames over.
   */
  leavesStillLeaves(plan: Plan): void {
    const expectLeaf = [
      ...plan.place.filter((p) => p.replace).map((p) => p.file.path),
      ...plan.remove,
    ].filter((p) => !this.obstacles.has(p));
    for (const [parent, names] of groupBy(expectLeaf, parentOf)) {
      const present = this.entries(parent);
      if (!present) continue;
      for (const rel of names)
        if (present.get(path.posix.basename(rel))?.isDirectory())
          this.refuse(
            conflict(
              path.join(this.root, rel),
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
