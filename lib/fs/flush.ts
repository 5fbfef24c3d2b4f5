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
  /** a file's bytes were written (a copy or a reflink): its data needs a flush, not only its name */
  private data = false;

  /** Note that the entry at `abs` was made, renamed or removed. */
  touched(abs: string): void {
    // Past FEW_DIRS the flush is one syncfs whatever the set holds: stop paying a dirname per file.
    if (this.dirs.size > FEW_DIRS) return;
    this.dirs.add(abs.slice(0, abs.lastIndexOf('/')) || '/');
  }

  /** Note that new file data was written (not a link to a store object, already durable). */
  wroteData(): void {
    this.data = true;
  }

  /** Make every noted change durable, then start a new phase. */
  async flush(root: string): Promise<void> {
    if (this.data || this.dirs.size > FEW_DIRS) await syncFilesystem(root);
    else for (const dir of this.dirs) fsyncDirSync(dir);
    this.dirs.clear();
    this.data = false;
  }
}

function fsyncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    fs.fsyncSync(fd);
  } catch (err) {
    // A directory removed later in the same phase (rmdir of an emptied one) has nothing to flush.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new PstoreError(
      'EPSTORE_IO',
      `cannot flush directory ${dir}: ${(err as Error).message}`,
      { subject: dir, cause: err },
    );
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
