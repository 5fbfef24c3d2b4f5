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
  // Every directory the plan writes in must be a real directory or not exist yet.
  await check.parentsOf(plan);
  await check.newNamesFree(plan, takeOver);
  // New directories may merge with existing ones (checked above) but not replace files.
  for (const d of plan.mkdirs) await check.dirState(d);
  await check.obstaclesHoldOnlyOwned(plan.obstacles);
  // Directories to remove must be directories (a symlink in their place is not followed).
  for (const d of plan.rmdirs) await check.dirState(d);
  await check.leavesStillLeaves(plan);
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

/** One prefix check: what it found of each directory, looked up once. */
class PrefixCheck {
  private readonly dirs = new Map<string, Promise<DirState>>();
  /** the directories looked up already, for the loops over every path to read without a wait */
  private readonly settled = new Map<string, DirState>();
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

  dirState(rel: string): Promise<DirState> {
    let s = this.dirs.get(rel);
    if (!s) {
      s = this.lookUp(rel);
      this.dirs.set(rel, s);
      void s.then((state) => this.settled.set(rel, state)).catch(() => {}); // thrown where awaited
    }
    return s;
  }

  /** An absent parent answers for its children: a directory the plan creates has nothing below. */
  private async lookUp(rel: string): Promise<DirState> {
    if (rel !== '') {
      if ((await this.dirState(parentOf(rel))) === 'absent') return 'absent';
      if (this.obstacles.has(rel) && this.ownedBefore.has(rel)) return 'absent';
    }
    const abs = path.join(this.root, rel);
    const st = await fsp.lstat(abs).catch((err: unknown) => {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    });
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

  async parentsOf(plan: Plan): Promise<void> {
    const parents = new Set<string>(plan.mkdirs);
    const note = (rel: string) => parents.add(parentOf(rel));
    for (const list of [plan.removeMarkers, plan.obstacles, plan.mkdirs, plan.remove, plan.rmdirs])
      list.forEach(note);
    const placedIn = parentsInOrder();
    for (const p of plan.place) parents.add(placedIn(p.file.path));
    for (const u of plan.placeMarkers) note(u.path);
    await Promise.all([...parents].map((d) => this.dirState(d)));
  }

  /** The entries of an existing directory, by name: one readdir, undefined when it is absent. */
  private async entries(parent: string): Promise<Map<string, Dirent> | undefined> {
    if ((await this.dirState(parent)) === 'absent') return undefined;
    const list = await fsp.readdir(path.join(this.root, parent), { withFileTypes: true });
    return new Map(list.map((d) => [d.name, d]));
  }

  /** New names must be free, unless what is there is ours (owned before) or Python's bytecode. */
  async newNamesFree(plan: Plan, takeOver?: (rel: string) => boolean): Promise<void> {
    // Only names in a directory that exists can be taken: parentsOf looked every parent up, so a
    // name in an absent one is passed over here, without a list or a wait per directory.
    const byParent = new Map<string, string[]>();
    const parentIn = parentsInOrder();
    const consider = (rel: string) => {
      const parent = parentIn(rel);
      if (this.settled.get(parent) === 'absent') return;
      if (this.ownedBefore.has(rel) || this.obstacles.has(rel)) return;
      const names = byParent.get(parent);
      if (names) names.push(rel);
      else byParent.set(parent, [rel]);
    };
    for (const p of plan.place) if (!p.replace) consider(p.file.path);
    for (const u of plan.placeMarkers) consider(u.path);
    for (const [parent, names] of byParent) {
      const present = await this.entries(parent);
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
  async leavesStillLeaves(plan: Plan): Promise<void> {
    const expectLeaf = [
      ...plan.place.filter((p) => p.replace).map((p) => p.file.path),
      ...plan.remove,
    ].filter((p) => !this.obstacles.has(p));
    for (const [parent, names] of groupBy(expectLeaf, parentOf)) {
      const present = await this.entries(parent);
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
