// Ingest a staged install tree: the directory's root maps to the prefix root. Symlinks are kept
// as data and never followed (dir-walk.ts): a file or a parent swapped for a symlink, or a file
// replaced, between the walk and the read is refused rather than read through.

import fs from 'node:fs';
import { PstoreError } from '../core/errors.js';
import type { StoreLayout } from '../store/layout.js';
import {
  hashBuffer,
  hashBufferOffThread,
  writeHashedBufferSync,
  writeObjectFromFile,
} from '../store/objects.js';
import {
  Pacer,
  STREAM_THRESHOLD,
  TreeIngest,
  type IngestOptions,
  type IngestResult,
} from './source.js';
import { WriteQueue } from './write-queue.js';
import { BufferPool, ScratchReader } from '../fs/scratch-read.js';
import { openWalkedFile, walkTree, type WalkedFile } from './dir-walk.js';

/**
 * Files of at least this size (up to STREAM_THRESHOLD) are hashed off the main thread: below it, the
 * round trip and the promise cost about what hashing them here does.
 */
export const OFF_THREAD_BYTES = 256 * 1024;

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
  const files = ingest.walk();
  if (opts.onProgress) ingest.announce(files);
  return ingest.ingest(() => ingest.hashAll(files));
}

/**
 * One directory tree (`sourceName`) being ingested, walked in name order. Small files are read,
 * hashed and written with synchronous calls (SPEC.md §Add): a promise per call costs a thread-pool
 * round trip, which is most of a small file's cost. Large files are streamed, a few at a time,
 * while the others go on; hashing yields to the event loop (Pacer) so that they progress
 * and an abort is seen.
 */
class DirIngest extends TreeIngest {
  private readonly pacer = new Pacer();
  private readonly reader = new ScratchReader();
  /** at most one buffer per job the queue runs at once */
  private readonly buffers = new BufferPool();

  /** Directories and symlinks join the tree; regular files are returned to hash. */
  walk(): WalkedFile[] {
    const found: WalkedFile[] = [];
    walkTree(this.sourceName, {
      dir: (member) => this.collector.add({ path: member, type: 'dir' }),
      symlink: (member, target) => this.collector.add({ path: member, type: 'symlink', target }),
      file: (f) => found.push(f),
      other: (abs, kind) => {
        throw new PstoreError(
          'EPSTORE_UNSUPPORTED_TYPE',
          `${abs}: ${kind} cannot be stored (only files, directories and symlinks)`,
          { subject: abs },
        );
      },
    });
    return found;
  }

  /** Progress learns the totals: the file count, and the bytes the walk saw. */
  announce(files: readonly WalkedFile[]): void {
    this.tally.start(
      files.length,
      files.reduce((sum, f) => sum + f.size, 0),
    );
  }

  async hashAll(files: readonly WalkedFile[]): Promise<void> {
    for (const found of files) {
      await this.pace();
      if (this.queue.failed !== undefined) break;
      this.ingestFile(found);
    }
  }

  /** Let the event loop run now and then: large files' streams, timers, an abort. */
  private async pace(): Promise<void> {
    if (this.queue.full) await this.queue.room();
    await this.pacer.turn();
  }

  private ingestFile(found: WalkedFile): void {
    const member = found.member;
    const { fd, st } = openWalkedFile(found);
    let handedOff = false;
    try {
      const exec = (st.mode & 0o111) !== 0;
      this.tally.counted(member, st.size);
      if (st.size > STREAM_THRESHOLD) {
        handedOff = true;
        this.queue.push(0, () => this.ingestLargeFile(fd, st.size, member, exec));
        return;
      }
      if (st.size >= OFF_THREAD_BYTES) {
        // Hashed on a thread-pool thread while this one goes on with the next files.
        const buffer = this.buffers.take(st.size);
        const data = this.reader.read(fd, st.size, buffer);
        const job = () => this.storeOffThread(member, exec, data);
        this.queue.push(data.byteLength, () => job().finally(() => this.buffers.give(buffer)));
        return;
      }
      // The bytes are hashed and written at once: a reused buffer spares an allocation per file.
      const hashed = hashBuffer(this.reader.read(fd, st.size), exec);
      this.tally.addFile(member, exec, hashed);
      this.tally.wrote(writeHashedBufferSync(this.layout, hashed), hashed.size);
    } finally {
      if (!handedOff) fs.closeSync(fd);
    }
  }

  private async storeOffThread(member: string, exec: boolean, data: Buffer): Promise<void> {
    const hashed = await hashBufferOffThread(data, exec);
    this.tally.addFile(member, exec, hashed);
    this.tally.wrote(writeHashedBufferSync(this.layout, hashed), hashed.size);
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
      this.tally.wrote(obj.written, obj.size);
    } finally {
      fs.closeSync(fd);
    }
  }
}
