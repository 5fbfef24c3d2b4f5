// Reading a tar stream completely and only completely, with backpressure; shared by ingest and
// bundle import. node-tar's Parser parses; this adds what pstore demands beyond it: the
// end-of-archive block must be present (node-tar accepts an archive cut at a block boundary),
// formats node-tar cannot read here become errors instead of exceptions, and the source pauses
// while the consumer's write queue is full.

import { PassThrough, type Readable } from 'node:stream';
import { Parser, type ReadEntry } from 'tar';
import { PstoreError } from '../core/errors.js';
import type { WriteQueue } from './write-queue.js';

export interface TarStreamOptions {
  queue: WriteQueue;
  /** handle one member; throwing rejects the whole stream */
  onEntry(entry: ReadEntry): void;
  /** the error for a malformed, truncated or unreadable archive */
  bad(why: string, subject?: string): Error;
  /**
   * Bytes read past the end-of-archive blocks before the archive is taken as ended and the source
   * let go (add: a tar's record padding is ~10 KiB; an endless source such as /dev/zero must not
   * be read for ever). Unset: read to the source's end (bundle import checks every byte of it).
   */
  afterEnd?: number;
}

export interface TarStream {
  done: Promise<void>;
  /** pipe a member's bytes to a consumer that a failure of the archive will also end */
  stream(entry: ReadEntry): PassThrough;
}

export function readTarStream(source: Readable, opts: TarStreamOptions): TarStream {
  const reader = new TarReader(source, opts);
  return { done: reader.done, stream: (entry) => reader.stream(entry) };
}

/** One archive read: the parser's events, the source's flow, and the first failure ending both. */
class TarReader {
  readonly done: Promise<void>;
  private readonly parser = new Parser({ strict: true });
  private readonly streaming = new Set<PassThrough>();
  private endMarker = false;
  private sawEof = false;
  /** bytes the source gave after the end-of-archive blocks */
  private trailing = 0;
  /** the source was let go after the archive's end: nothing it still emits is read */
  private letGo = false;
  private entries = 0;
  private failed = false;
  private settle!: { resolve: () => void; reject: (err: unknown) => void };

  constructor(
    private readonly source: Readable,
    private readonly opts: TarStreamOptions,
  ) {
    this.done = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }));
    // A failed write (a full disk) leaves its member's bytes unread, which would pause the parser
    // and the source for ever: the first failure of the queue ends the archive at once.
    opts.queue.onFailure((err) => this.fail(err));
    this.watchParser();
    this.watchSource();
  }

  stream(entry: ReadEntry): PassThrough {
    const pass = new PassThrough();
    // A failure destroys every member stream with its error, possibly before the consumer has
    // attached (it may still await a check): the consumer sees it through pipeline(), and the
    // process must not die of an unhandled 'error' meanwhile.
    pass.on('error', () => {});
    this.streaming.add(pass);
    pass.on('close', () => this.streaming.delete(pass));
    entry.pipe(pass);
    return pass;
  }

  private fail(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.source.destroy();
    for (const pass of this.streaming)
      pass.destroy(err instanceof Error ? err : new Error(String(err)));
    this.settle.reject(err);
  }

  private watchParser(): void {
    const { parser, opts } = this;
    parser.on('nullBlock', () => (this.endMarker = true));
    parser.on('eof', () => {
      this.endMarker = true;
      this.sawEof = true;
    });
    parser.on('ignoredEntry', (e: ReadEntry) =>
      this.fail(opts.bad(`member ${JSON.stringify(e.path)} has an oversized header`, e.path)),
    );
    parser.on('error', (err: Error & { code?: string }) => {
      // node-tar calls an archive of nothing but end-of-archive blocks "unrecognized"; it is a valid
      // empty tar (`tar -cf x.tar -T /dev/null`), as an empty directory is a valid empty tree.
      if (err.code === 'TAR_BAD_ARCHIVE' && this.sawEof && this.entries === 0) return;
      this.fail(opts.bad(`not a complete tar archive (${err.message})`));
    });
    parser.on('entry', (entry: ReadEntry) => this.onEntry(entry));
    parser.on('end', () => {
      if (this.failed) return;
      if (!this.endMarker) this.fail(opts.bad('truncated: the end-of-archive marker is missing'));
      else this.settle.resolve();
    });
  }

  private onEntry(entry: ReadEntry): void {
    this.endMarker = false;
    this.entries++;
    if (this.failed) {
      entry.resume();
      return;
    }
    try {
      this.opts.onEntry(entry);
    } catch (err) {
      entry.resume();
      this.fail(err);
    }
  }

  private watchSource(): void {
    const { source, opts } = this;
    source.on('error', (err) => {
      if (!this.letGo)
        this.fail(err instanceof PstoreError ? err : opts.bad(`cannot be read (${err.message})`));
    });
    source.on('data', (chunk: Buffer) => {
      if (!this.letGo) this.feed(chunk);
    });
    source.on('end', () => {
      if (!this.letGo) this.parser.end();
    });
  }

  /** The archive ended long ago: let the source go and end the parser (its 'end' settles). */
  private endEarly(): void {
    if (this.failed || this.letGo) return;
    this.letGo = true;
    this.source.destroy();
    this.parser.end();
  }

  /** Hand a chunk to the parser; pause the source while the parser or the write queue is full. */
  private feed(chunk: Buffer): void {
    if (this.sawEof && this.opts.afterEnd !== undefined) {
      this.trailing += chunk.length;
      if (this.trailing > this.opts.afterEnd) return this.endEarly();
    }
    let accepted: boolean;
    try {
      accepted = this.parser.write(chunk);
    } catch (err) {
      // node-tar throws from write() for formats it recognizes but cannot read here (zstd on Node 20).
      this.fail(this.opts.bad(`cannot be read (${(err as Error).message})`));
      return;
    }
    if (this.failed || (accepted && !this.opts.queue.full)) return;
    this.source.pause();
    const waits: Array<Promise<unknown>> = [this.opts.queue.room()];
    if (!accepted) waits.push(new Promise((r) => this.parser.once('drain', r)));
    void Promise.all(waits).then(() => {
      if (!this.failed) this.source.resume();
    });
  }
}
