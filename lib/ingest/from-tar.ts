// Ingest a tar (optionally gzipped) stream. node-tar's Parser only parses here; its extraction-time
// protections do not run, so every member goes through safe-path.ts and TreeCollector's rules.

import type { Readable } from 'node:stream';
import type { ReadEntry } from 'tar';
import { PstoreError } from '../core/errors.js';
import { normalizeMemberPath, unsafe } from '../core/safe-path.js';
import type { StoreLayout } from '../store/layout.js';
import { hashBuffer, writeHashedBufferSync, writeObjectFromStream } from '../store/objects.js';
import { STREAM_THRESHOLD, TreeIngest, type IngestOptions, type IngestResult } from './source.js';
import { readTarStream, type TarStream } from './tar-stream.js';
import { WriteQueue } from './write-queue.js';

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);

export async function ingestTar(
  layout: StoreLayout,
  source: Readable,
  sourceName: string,
  opts: IngestOptions = {},
): Promise<IngestResult> {
  const ingest = new TarIngest(layout, sourceName, opts, new WriteQueue());
  return ingest.ingest(() => ingest.read(source));
}

/**
 * What is read of a tar after its end-of-archive blocks before the source is let go, as GNU tar
 * stops reading there: a record's padding (10 KiB for GNU tar's default) fits many times over.
 */
const AFTER_END_BYTES = 1024 * 1024;

/** One tar being ingested: each member checked, hashed and queued for writing as it arrives. */
class TarIngest extends TreeIngest {
  /** large members whose hash is not known yet, for hard links to them */
  private readonly pendingLarge = new Map<string, Promise<void>>();
  private tar!: TarStream;

  read(source: Readable): Promise<void> {
    this.tally.start();
    this.tar = readTarStream(source, {
      queue: this.queue,
      onEntry: (entry) => this.onEntry(entry),
      bad: (why, subject) => this.bad(why, subject),
      afterEnd: AFTER_END_BYTES,
    });
    return this.tar.done;
  }

  private bad(why: string, subject = this.sourceName): PstoreError {
    return new PstoreError('EPSTORE_BAD_ARCHIVE', `${this.sourceName}: ${why}`, { subject });
  }

  private onEntry(entry: ReadEntry): void {
    const member = normalizeMemberPath(entry.path);
    const type = entry.type;
    if (FILE_TYPES.has(type) && member !== '') {
      this.collector.checkPlace(member);
      this.addFile(entry, member);
      return;
    }
    if (member === '') this.checkRoot(entry);
    else if (type === 'Directory') this.collector.add({ path: member, type: 'dir' });
    else if (type === 'SymbolicLink') this.addSymlink(entry, member);
    else if (type === 'Link') this.addHardLink(entry, member);
    else {
      throw new PstoreError(
        'EPSTORE_UNSUPPORTED_TYPE',
        `${this.sourceName}: member ${JSON.stringify(entry.path)} is a ${type}; only files, directories, symlinks and hard links can be stored`,
        { subject: entry.path },
      );
    }
    entry.resume();
  }

  private checkRoot(entry: ReadEntry): void {
    if (entry.type !== 'Directory')
      throw this.bad(
        `member ${JSON.stringify(entry.path)} names the root but is not a directory`,
        entry.path,
      );
  }

  private addSymlink(entry: ReadEntry, member: string): void {
    const target = entry.linkpath ?? '';
    if (target === '' || target.includes('\0'))
      throw this.bad(
        `symlink ${JSON.stringify(entry.path)} has an empty or invalid target`,
        entry.path,
      );
    this.collector.add({ path: member, type: 'symlink', target });
  }

  private addHardLink(entry: ReadEntry, member: string): void {
    const raw = entry.linkpath ?? '';
    let target: string;
    try {
      target = normalizeMemberPath(raw);
    } catch {
      throw unsafe(entry.path, `is a hard link to ${JSON.stringify(raw)}, outside the archive`);
    }
    const link = () => {
      const file = this.collector.get(target);
      const key = this.collector.objectKeyOf(target);
      if (file?.type !== 'file' || key === undefined) {
        throw unsafe(
          entry.path,
          `is a hard link to ${JSON.stringify(raw)}, which is not an earlier regular file of the archive`,
        );
      }
      this.collector.add({ ...file, path: member }, key);
    };
    const pending = this.pendingLarge.get(target);
    if (!pending) return link();
    this.collector.checkPlace(member);
    this.queue.push(0, async () => {
      await pending;
      link();
    });
  }

  private addFile(entry: ReadEntry, member: string): void {
    const exec = ((entry.mode ?? 0o644) & 0o111) !== 0;
    const size = entry.size ?? 0;
    this.tally.counted(member, size);
    if (size > STREAM_THRESHOLD) this.addLargeFile(entry, member, exec);
    else this.addSmallFile(entry, member, exec);
  }

  /**
   * Streamed, not buffered: its bytes flow only while the source flows, so it must not count
   * against the queue's byte bound (that would pause the source it needs and stall).
   */
  private addLargeFile(entry: ReadEntry, member: string, exec: boolean): void {
    const pass = this.tar.stream(entry);
    let done!: () => void;
    this.pendingLarge.set(member, new Promise<void>((r) => (done = r)));
    this.queue.push(0, async () => {
      try {
        const obj = await writeObjectFromStream(this.layout, pass, exec);
        this.tally.addFile(member, exec, obj, true);
        this.tally.wrote(obj.written, obj.size);
      } finally {
        done();
      }
    });
  }

  private addSmallFile(entry: ReadEntry, member: string, exec: boolean): void {
    const chunks: Buffer[] = [];
    entry.on('data', (c: Buffer) => chunks.push(c));
    entry.on('end', () => {
      const hashed = hashBuffer(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), exec);
      try {
        this.tally.addFile(member, exec, hashed, true);
        // Written at once, synchronously: a promise per member would cost a thread-pool round trip.
        this.tally.wrote(writeHashedBufferSync(this.layout, hashed), hashed.size);
      } catch (err) {
        this.queue.push(0, () => Promise.reject(err)); // the queue's failure stops the source
      }
    });
  }
}
