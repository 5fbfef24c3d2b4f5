// Ingest a staged install tree: the directory's root maps to the prefix root. Symlinks are kept
// as data and never followed; files are opened with O_NOFOLLOW so a file swapped for a symlink
// mid-walk is refused rather than read through.

import fs, { constants as fsc } from 'node:fs';
import path from 'node:path';
import pMap from 'p-map';
import { PstoreError, errnoCode } from '../core/errors.js';
import { normalizeMemberPath } from '../core/safe-path.js';
import type { StoreLayout } from '../store/layout.js';
import { hashBuffer, writeHashedBufferSync, writeObjectFromFile } from '../store/objects.js';
import { STREAM_THRESHOLD, TreeIngest, type IngestOptions, type IngestResult } from './source.js';
import { WriteQueue } from './write-queue.js';

export async function ingestDir(
  layout: StoreLayout,
  root: string,
  opts: IngestOptions = {},
): Promise<IngestResult> {
  // A job streams one large file: 4 at a time keep the disk busy without a thread pool queue.
  const ingest = new DirIngest(layout, root, opts, new WriteQueue(64 * 1024 * 1024, 4));
  // The walk first, so that progress knows how many files (and bytes) there are to hash; a
  // terminal shows "add..." meanwhile.
  ingest.tally.start();
  const files = ingest.walk('', []);
  if (opts.onProgress) await ingest.announce(files);
  return ingest.ingest(() => ingest.hashAll(files));
}

/** A regular file the walk found: its member path and where it is. */
interface FoundFile {
  member: string;
  abs: string;
}

/**
 * One directory tree (`sourceName`) being ingested, walked in name order. Small files are read,
 * hashed and written with synchronous calls (SPEC.md §Add): a promise per call costs a thread-pool
 * round trip, which is most of a small file's cost. Large files are streamed, a few at a time,
 * while the others go on; hashing yields to the event loop every YIELD_MS so that they progress
 * and an abort is seen.
 */
class DirIngest extends TreeIngest {
  private lastYield = Date.now();

  /** Directories and symlinks join the tree; regular files are returned (into `found`) to hash. */
  walk(rel: string, found: FoundFile[]): FoundFile[] {
    const abs = rel === '' ? this.sourceName : path.join(this.sourceName, rel);
    const dirents = fs.readdirSync(abs, { withFileTypes: true });
    dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const d of dirents) {
      const memberRel = rel === '' ? d.name : `${rel}/${d.name}`;
      const member = normalizeMemberPath(memberRel);
      const memberAbs = path.join(abs, d.name);
      if (d.isDirectory()) {
        this.collector.add({ path: member, type: 'dir' });
        this.walk(memberRel, found);
      } else if (d.isSymbolicLink()) {
        this.collector.add({ path: member, type: 'symlink', target: fs.readlinkSync(memberAbs) });
      } else if (d.isFile()) {
        found.push({ member, abs: memberAbs });
      } else {
        throw new PstoreError(
          'EPSTORE_UNSUPPORTED_TYPE',
          `${memberAbs}: ${direntKind(d)} cannot be stored (only files, directories and symlinks)`,
          { subject: memberAbs },
        );
      }
    }
    return found;
  }

  /** Progress learns the totals: the file count, and (one lstat a file) the bytes. */
  async announce(files: readonly FoundFile[]): Promise<void> {
    const sizes = await pMap(
      files,
      // a file gone since the walk fails when it is read, with its name; here it counts nothing
      async (f) => (await fs.promises.lstat(f.abs).catch(() => undefined))?.size ?? 0,
      { concurrency: 16 },
    );
    this.tally.start(
      files.length,
      sizes.reduce((sum, n) => sum + n, 0),
    );
  }

  async hashAll(files: readonly FoundFile[]): Promise<void> {
    for (const { abs, member } of files) {
      await this.pace();
      if (this.queue.failed !== undefined) break;
      this.ingestFile(abs, member);
    }
  }

  /** Let the event loop run now and then: large files' streams, timers, an abort. */
  private async pace(): Promise<void> {
    if (this.queue.full) await this.queue.room();
    if (Date.now() - this.lastYield < YIELD_MS) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.lastYield = Date.now();
  }

  private ingestFile(abs: string, member: string): void {
    const fd = openNoFollow(abs);
    let handedOff = false;
    try {
      const st = fs.fstatSync(fd);
      const exec = (st.mode & 0o111) !== 0;
      this.tally.counted(member, st.size);
      if (st.size > STREAM_THRESHOLD) {
        handedOff = true;
        this.queue.push(0, () => this.ingestLargeFile(fd, st.size, member, exec));
        return;
      }
      const hashed = hashBuffer(readWhole(fd, st.size), exec);
      this.tally.addFile(member, exec, hashed);
      this.tally.wrote(writeHashedBufferSync(this.layout, hashed));
    } finally {
      if (!handedOff) fs.closeSync(fd);
    }
  }

  private async ingestLargeFile(
    fd: number,
    size: number,
    member: string,
    exec: boolean,
  ): Promise<void> {
    try {
      const read = () => fs.createReadStream('', { fd, start: 0, autoClose: false });
      const obj = await writeObjectFromFile(this.layout, read, size, exec);
      this.tally.addFile(member, exec, obj);
      this.tally.wrote(obj.written);
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** YIELD_MS of synchronous work at most between two turns of the event loop. */
const YIELD_MS = 20;

/** Read a file whose size fstat just gave, with no second fstat (as readFile would do). */
function readWhole(fd: number, size: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  let off = 0;
  while (off < size) {
    const bytesRead = fs.readSync(fd, buf, off, size - off, off);
    if (bytesRead === 0) break; // the file shrank meanwhile: store what was there
    off += bytesRead;
  }
  return off === size ? buf : buf.subarray(0, off);
}

function openNoFollow(abs: string): number {
  try {
    return fs.openSync(abs, fsc.O_RDONLY | fsc.O_NOFOLLOW);
  } catch (err) {
    if (errnoCode(err) === 'ELOOP') {
      throw new PstoreError(
        'EPSTORE_UNSAFE_PATH',
        `${abs}: turned into a symlink while being read`,
        { subject: abs, cause: err },
      );
    }
    throw err;
  }
}

function direntKind(d: {
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}): string {
  if (d.isFIFO()) return 'a FIFO';
  if (d.isSocket()) return 'a socket';
  if (d.isCharacterDevice()) return 'a character device';
  if (d.isBlockDevice()) return 'a block device';
  return 'a special file';
}
