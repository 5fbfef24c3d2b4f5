// Ingest a staged install tree: the directory's root maps to the prefix root. Symlinks are kept
// as data and never followed; files are opened with O_NOFOLLOW so a file swapped for a symlink
// mid-walk is refused rather than read through.

import { constants as fsc, createReadStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import pMap from 'p-map';
import { PstoreError, errnoCode } from '../core/errors.js';
import { normalizeMemberPath } from '../core/safe-path.js';
import type { StoreLayout } from '../store/layout.js';
import { hashBuffer, writeHashedBuffer, writeObjectFromStream } from '../store/objects.js';
import { STREAM_THRESHOLD, TreeIngest, type IngestOptions, type IngestResult } from './source.js';
import { WriteQueue } from './write-queue.js';

export async function ingestDir(
  layout: StoreLayout,
  root: string,
  opts: IngestOptions = {},
): Promise<IngestResult> {
  // A job holds up to one file (≤ STREAM_THRESHOLD) in memory: 16 of them bound memory to 128 MiB.
  const ingest = new DirIngest(layout, root, opts, new WriteQueue(64 * 1024 * 1024, 16));
  // The walk first, so that progress knows how many files (and bytes) there are to hash; a
  // terminal shows "add..." meanwhile.
  ingest.tally.start();
  const files = await ingest.walk('', []);
  if (opts.onProgress) await ingest.announce(files);
  return ingest.ingest(() => ingest.hashAll(files));
}

/** A regular file the walk found: its member path and where it is. */
interface FoundFile {
  member: string;
  abs: string;
}

/** One directory tree (`sourceName`) being ingested, walked in name order. */
class DirIngest extends TreeIngest {
  /** Directories and symlinks join the tree; regular files are returned (into `found`) to hash. */
  async walk(rel: string, found: FoundFile[]): Promise<FoundFile[]> {
    const abs = rel === '' ? this.sourceName : path.join(this.sourceName, rel);
    const dirents = await fsp.readdir(abs, { withFileTypes: true });
    dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const d of dirents) {
      const memberRel = rel === '' ? d.name : `${rel}/${d.name}`;
      const member = normalizeMemberPath(memberRel);
      const memberAbs = path.join(abs, d.name);
      if (d.isDirectory()) {
        this.collector.add({ path: member, type: 'dir' });
        await this.walk(memberRel, found);
      } else if (d.isSymbolicLink()) {
        this.collector.add({
          path: member,
          type: 'symlink',
          target: await fsp.readlink(memberAbs),
        });
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

  /** Progress learns the totals: the file count, and (only for a listener: one lstat a file) bytes. */
  async announce(files: readonly FoundFile[]): Promise<void> {
    const sizes = await pMap(
      files,
      // a file gone since the walk fails when it is read, with its name; here it counts nothing
      async (f) => (await fsp.lstat(f.abs).catch(() => undefined))?.size ?? 0,
      { concurrency: 16 },
    );
    this.tally.start(
      files.length,
      sizes.reduce((sum, n) => sum + n, 0),
    );
  }

  /** Reading, hashing and writing all overlap; a directory tree has no ordering rules to keep. */
  async hashAll(files: readonly FoundFile[]): Promise<void> {
    for (const { abs, member } of files) {
      await this.queue.room();
      if (this.queue.failed !== undefined) break;
      this.queue.push(0, () => this.ingestFile(abs, member));
    }
  }

  private async ingestFile(abs: string, member: string): Promise<void> {
    const fh = await openNoFollow(abs);
    let handedOff = false;
    try {
      const st = await fh.stat();
      const exec = (st.mode & 0o111) !== 0;
      this.tally.counted(member, st.size);
      if (st.size > STREAM_THRESHOLD) {
        handedOff = true;
        const obj = await writeObjectFromStream(
          this.layout,
          createReadStream('', { fd: fh, autoClose: true }),
          exec,
        );
        this.tally.addFile(member, exec, obj);
        this.tally.wrote(obj.written);
        return;
      }
      const hashed = hashBuffer(await readWhole(fh, st.size), exec);
      await fh.close();
      handedOff = true;
      this.tally.addFile(member, exec, hashed);
      this.tally.wrote((await writeHashedBuffer(this.layout, hashed, exec)).written);
    } finally {
      if (!handedOff) await fh.close();
    }
  }
}

/** Read a file whose size fstat just gave, with no second fstat (as readFile would do). */
async function readWhole(fh: fsp.FileHandle, size: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(size);
  let off = 0;
  while (off < size) {
    const { bytesRead } = await fh.read(buf, off, size - off, off);
    if (bytesRead === 0) break; // the file shrank meanwhile: store what was there
    off += bytesRead;
  }
  return off === size ? buf : buf.subarray(0, off);
}

async function openNoFollow(abs: string): Promise<fsp.FileHandle> {
  try {
    return await fsp.open(abs, fsc.O_RDONLY | fsc.O_NOFOLLOW);
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
