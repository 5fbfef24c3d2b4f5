// Ingest a staged install tree: the directory's root maps to the prefix root. Symlinks are kept
// as data and never followed (dir-walk.ts): a file or a parent swapped for a symlink, or a file
// replaced, between the walk and the read is refused rather than read through.

import fs from 'node:fs';
import { PstoreError } from '../core/errors.js';
import type { StoreLayout } from '../store/layout.js';
import { hashBufferOffThread, writeObjectFromFile } from '../store/objects.js';
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
import { ingestThreads, IngestWorker, workerTakesAll } from './dir-threads.js';
import { FileClaims, ObjectClaims } from './shared-work.js';
import { placeClaimed, storeOpenFile } from './whole-file.js';

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
  let files: WalkedFile[];
  try {
    files = ingest.walk();
    if (opts.onProgress) ingest.announce(files);
  } catch (err) {
    await ingest.worker?.abandon(); // started during the walk, never handed a list
    throw err;
  }
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
  /** objects claimed by this thread or the worker (none without a worker) */
  private objects: ObjectClaims | undefined;
  /** the second thread, started during the walk once it pays (dir-threads.ts) */
  worker: IngestWorker | undefined;
  /** the list the worker takes files from (indexes in its reports are into it) */
  private handedOver: readonly WalkedFile[] = [];
  private readonly threadSetting = process.env.PSTORE_INGEST_THREADS;

  /**
   * Directories and symlinks join the tree; regular files are returned to hash. Once enough
   * files are found, the worker is started: its start-up overlaps the rest of the walk.
   */
  walk(): WalkedFile[] {
    const found: WalkedFile[] = [];
    let whole = 0;
    walkTree(this.sourceName, {
      dir: (member) => this.collector.add({ path: member, type: 'dir' }),
      symlink: (member, target) => this.collector.add({ path: member, type: 'symlink', target }),
      file: (f) => {
        found.push(f);
        if (f.size > STREAM_THRESHOLD || this.worker !== undefined) return;
        if (ingestThreads(++whole, this.threadSetting) === 2) this.worker = this.startWorker();
      },
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

  /**
   * Store every file: the large ones streamed through the queue, the others taken whole, one at a
   * time, from a list this thread shares with a worker thread when one pays (dir-threads.ts).
   */
  async hashAll(files: readonly WalkedFile[]): Promise<void> {
    const whole = files.filter((f) => f.size <= STREAM_THRESHOLD);
    const claims = new FileClaims(whole.length);
    const worker = this.worker;
    try {
      if (worker !== undefined) this.handOver(worker, whole, claims);
      for (const found of files) {
        if (found.size <= STREAM_THRESHOLD) continue;
        await this.pace();
        if (this.queue.failed !== undefined) break;
        this.ingestFile(found);
      }
      if (worker === undefined || !workerTakesAll) await this.takeFiles(whole, claims, worker);
    } catch (err) {
      await worker?.abandon();
      throw err;
    }
    // a failed streaming job fails the ingest (settleAll): the worker need not go on
    if (this.queue.failed !== undefined) await worker?.abandon();
    else await worker?.finish();
  }

  private async takeFiles(
    whole: readonly WalkedFile[],
    claims: FileClaims,
    worker: IngestWorker | undefined,
  ): Promise<void> {
    for (let i = claims.next(); i !== -1; i = claims.next()) {
      this.ingestFile(whole[i]!);
      await this.pace();
      if (this.queue.failed !== undefined || worker?.failed !== undefined) break;
    }
  }

  /** A worker thread; what it stores (a file of the list it is handed) joins the tree here. */
  private startWorker(): IngestWorker {
    return new IngestWorker((i, integrity, size, exec, written) => {
      const member = this.handedOver[i]!.member;
      this.tally.counted(member, size);
      this.tally.addFile(member, exec, { integrity, size });
      this.tally.wrote(written, size);
    });
  }

  /** The walk is done: the worker takes files of `whole` too, claiming objects with this thread. */
  private handOver(worker: IngestWorker, whole: readonly WalkedFile[], claims: FileClaims): void {
    this.handedOver = whole;
    this.objects = ObjectClaims.forObjects(whole.length);
    const start = {
      layout: this.layout,
      files: whole as WalkedFile[],
      claims: claims.buffer,
      objects: this.objects.buffer,
    };
    worker.begin(start, claims);
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
      // Small: read into the reused buffer, hashed and placed at once (as the worker does).
      const f = storeOpenFile(this.layout, this.reader, fd, st, this.objects);
      this.tally.addFile(member, exec, f);
      this.tally.wrote(f.written, f.size);
    } finally {
      if (!handedOff) fs.closeSync(fd);
    }
  }

  private async storeOffThread(member: string, exec: boolean, data: Buffer): Promise<void> {
    const hashed = await hashBufferOffThread(data, exec);
    this.tally.addFile(member, exec, hashed);
    this.tally.wrote(placeClaimed(this.layout, hashed, this.objects), hashed.size);
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
