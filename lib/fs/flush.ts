// Flushing what a phase changed (SPEC.md §Durability) without a child process where a direct call
// can do it. A name made or removed by link/rename/unlink is durable once its directory is
// fsync'ed, and the files linked are store objects flushed when they were added, so a phase that
// touched a few directories fsyncs those (no `sync` process to start, nothing else on the disk to
// wait for). Past FEW_DIRS directories one syncfs of the filesystem costs less than an fsync each.

import fs from 'node:fs';
import { PstoreError } from '../core/errors.js';
import { syncFilesystem } from './atomic.js';

const FEW_DIRS = 64;

/** The directories whose entries a phase changed; each mutation notes its parent. */
export class DirtyDirs {
  readonly dirs = new Set<string>();

  /** `syncfs`: how the filesystem holding a root is flushed (a helper's, else one `sync -f` each) */
  constructor(private readonly syncfs: (root: string) => Promise<void> = syncFilesystem) {}

  /**
   * The flush must be a syncfs: a file's bytes were written (a copy or a reflink), whose data needs
   * a flush, not only its name; or entries were made in directories not noted here.
   */
  private wholeFilesystem = false;

  /** Note that the entry at `abs` was made, renamed or removed. */
  touched(abs: string): void {
    // Past FEW_DIRS the flush is one syncfs whatever the set holds: stop paying a dirname per file.
    if (this.dirs.size > FEW_DIRS) return;
    this.dirs.add(abs.slice(0, abs.lastIndexOf('/')) || '/');
  }

  /** Entries were made in directories not noted (by another thread): flush the filesystem. */
  everywhere(): void {
    this.wholeFilesystem = true;
  }

  /** Note that new file data was written (not a link to a store object, already durable). */
  wroteData(): void {
    this.wholeFilesystem = true;
  }

  /** Make every noted change durable, then start a new phase. */
  async flush(root: string): Promise<void> {
    if (this.wholeFilesystem || this.dirs.size > FEW_DIRS) await this.syncfs(root);
    // A directory removed later in the same phase (rmdir of an emptied one) has nothing to flush.
    else for (const dir of this.dirs) fsyncSync(dir, true);
    this.dirs.clear();
    this.wholeFilesystem = false;
  }
}

/**
 * Past this many files, one syncfs costs less than an fsync of each and of the directories naming
 * them (about two fsyncs a file); at or below it, fsyncs spare the `sync` process and wait for no
 * other writer's data on the filesystem.
 */
const FEW_FILES = 8;

/**
 * Make `files` durable, and the directory entries naming them up to `root` and `root`'s own entry
 * (a store made by this very command): the data of files written unflushed, by this process or
 * another, before a commit point that depends on them.
 */
export async function flushFiles(
  root: string,
  files: Iterable<string>,
  /** how to syncfs `root`'s filesystem (an ingest's flush helper, lib/fs/writeback.ts) */
  syncfs: (root: string) => Promise<void> = syncFilesystem,
): Promise<void> {
  // Read no further than FEW_FILES + 1 distinct files: past that, the answer is one syncfs.
  const few = new Set<string>();
  for (const file of files) {
    few.add(file);
    if (few.size > FEW_FILES) return syncfs(root);
  }
  const dirs = new Set<string>();
  for (const file of few) {
    fsyncSync(file, false);
    for (const dir of dirsUpTo(file, root)) dirs.add(dir);
  }
  if (few.size > 0) dirs.add(parentOf(root));
  for (const dir of dirs) fsyncSync(dir, false);
}

function parentOf(abs: string): string {
  return abs.slice(0, abs.lastIndexOf('/')) || '/';
}

/** The directories from `file`'s parent up to `root` (its parent alone when outside `root`). */
function dirsUpTo(file: string, root: string): string[] {
  const dirs = [parentOf(file)];
  while (dirs.at(-1)!.startsWith(`${root}/`)) dirs.push(parentOf(dirs.at(-1)!));
  return dirs;
}

/** fsync a file or directory; `missingOk`: one already removed has nothing to flush. */
function fsyncSync(target: string, missingOk: boolean): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(target, fs.constants.O_RDONLY);
    fs.fsyncSync(fd);
  } catch (err) {
    if (missingOk && (err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new PstoreError('EPSTORE_IO', `cannot flush ${target}: ${(err as Error).message}`, {
      subject: target,
      cause: err,
    });
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
