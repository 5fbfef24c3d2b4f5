// Durability primitives. The rule (SPEC.md §Durability): a name becomes visible only by rename or
// link of a complete file, and everything a commit point depends on is flushed before it.
// syncfs (one flush for the whole filesystem) replaces fsync-per-file, which costs 4-7 ms each here.

import fs, { promises as fsp, constants as fsc } from 'node:fs';
import path from 'node:path';
import { PstoreError } from '../core/errors.js';
import { TEMP_PREFIX } from '../core/names.js';
import { withPath } from './errno.js';
import { randomHex } from '../core/random.js';

/** fsync a directory so that renames/links/unlinks inside it are durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, fsc.O_RDONLY | fsc.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** `sync ARGS`; node:child_process is loaded on first use: most commands never flush this way. */
async function runSync(args: string[]): Promise<void> {
  const { execFile } = await import('node:child_process');
  await new Promise<void>((resolve, reject) =>
    execFile('sync', args, (err) => (err ? reject(err) : resolve())),
  );
}

/**
 * Flush the whole filesystem holding `dir`: syncfs(2) through coreutils `sync -f` on Linux, a global
 * `sync` elsewhere. A failure (EIO) is an error: nothing may be committed on top of unflushed data.
 */
export async function syncFilesystem(dir: string): Promise<void> {
  try {
    await runSync(process.platform === 'linux' ? ['-f', dir] : []);
  } catch (err) {
    throw new PstoreError(
      'EPSTORE_IO',
      `cannot flush the filesystem holding ${dir}: ${(err as Error).message}`,
      { subject: dir, cause: err },
    );
  }
}

// Unique per process (pid + random) and then a counter: one random draw per process, not per file,
// made on the first name (a process that writes nothing draws none).
let processTag: string | undefined;
let counter = 0;

/**
 * The one temp-name scheme: `DIR/.pstore-KIND-PART-PART…`. The reserved `.pstore` prefix
 * (core/names.ts) keeps it apart from every package file; KIND says what it is (`tmp`, `trash`,
 * `probe`, `obj`), the parts make it unique (a process tag, a txid, a generation number).
 */
export function tempPath(dir: string, kind: string, ...parts: Array<string | number>): string {
  return path.join(dir, `${TEMP_PREFIX}${kind}-${parts.join('-')}`);
}

/** A fresh name for a temporary file in `dir` that no reader mistakes for a real one. */
export function tmpName(dir: string, tag = 'tmp'): string {
  processTag ??= `${process.pid}-${randomHex(4)}`;
  return tempPath(dir, tag, processTag, (counter++).toString(36));
}

/**
 * Write bytes to `dest` atomically and durably: tmp in the same dir, fsync, rename, fsync dir.
 * `syncDir: false` leaves the last step to a later fsync of the same directory that the caller
 * knows comes before anything depends on the name (say where, in a comment, at the call).
 */
export async function writeFileAtomic(
  dest: string,
  data: string | Uint8Array,
  mode = 0o644,
  opts: { syncDir?: boolean } = {},
): Promise<void> {
  await new PendingFile(dest, data, mode).place();
  if (opts.syncDir !== false) await fsyncDir(path.dirname(dest));
}

/**
 * A file written now whose rename into place waits for the caller (place()): the temp, fsync and
 * rename of writeFileAtomic, which is one placed at once. The temp file is written in the call (to
 * the page cache) and its fsync is one thread-pool job, which runs while the caller works on: it
 * needs nothing of the calling thread (a chain of async steps would advance only between the
 * caller's synchronous stretches). Any failure removes the temp file.
 */
export class PendingFile {
  private readonly tmp: string;
  private fd: number | undefined;
  private readonly synced: Promise<void>;
  private placed: Promise<void> | undefined;
  private renamed = false;

  constructor(
    private readonly dest: string,
    data: string | Uint8Array,
    mode = 0o644,
  ) {
    this.tmp = tmpName(path.dirname(dest));
    try {
      this.fd = fs.openSync(this.tmp, 'wx', mode);
      fs.writeFileSync(this.fd, data);
    } catch (err) {
      this.close();
      fs.rmSync(this.tmp, { force: true });
      throw withPath(err, dest);
    }
    const fd = this.fd;
    this.synced = new Promise<void>((resolve, reject) =>
      fs.fsync(fd, (err) => (err ? reject(err) : resolve())),
    );
    this.synced.catch(() => {}); // not unhandled: place() or discard() sees it
  }

  /** Once flushed, rename it into place (once, however often it is called). */
  place(): Promise<void> {
    this.placed ??= this.synced
      .then(() => {
        this.close();
        fs.renameSync(this.tmp, this.dest);
        this.renamed = true;
      })
      .catch(async (err: unknown) => {
        await this.discard();
        throw withPath(err, this.dest);
      });
    return this.placed;
  }

  /** Never place it: wait for its flush to end, then remove the temp file. */
  async discard(): Promise<void> {
    await this.synced.catch(() => {});
    this.close();
    if (!this.renamed) await fsp.rm(this.tmp, { force: true });
  }

  private close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Create `link` pointing at `target` atomically, replacing whatever symlink was there. */
export async function replaceSymlink(target: string, link: string): Promise<void> {
  const tmp = tmpName(path.dirname(link), 'link');
  await fsp.symlink(target, tmp);
  try {
    await fsp.rename(tmp, link);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(path.dirname(link));
}
