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
}

export interface TarStream {
  done: Promise<void>;
  /** pipe a member's bytes to a consumer that a failure of the archive will also end */
  stream(entry: ReadEntry): PassThrough;
}

export function readTarStream(source: Readable, opts: TarStreamOptions): TarStream {
  const streaming = new Set<PassThrough>();
  const stream = (entry: ReadEntry): PassThrough => {
    const pass = new PassThrough();
    // A failure destroys every member stream with its error, possibly before the consumer has
    // attached (it may still await a check): the consumer sees it through pipeline(), and the
    // process must not die of an unhandled 'error' meanwhile.
    pass.on('error', () => {});
    streaming.add(pass);
    pass.on('close', () => streaming.delete(pass));
    entry.pipe(pass);
    return pass;
  };
  const done = new Promise<void>((resolve, reject) => {
    const parser = new Parser({ strict: true });
    let endMarker = false;
    let sawEof = false;
    let entries = 0;
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      source.destroy();
      for (const pass of streaming)
        pass.destroy(err instanceof Error ? err : new Error(String(err)));
      reject(err);
    };
    // A failed write (a full disk) leaves its member's bytes unread, which would pause the parser
    // and the source for ever: the first failure of the queue ends the archive at once.
    opts.queue.onFailure(fail);
    parser.on('nullBlock', () => {
      endMarker = true;
    });
    parser.on('eof', () => {
      endMarker = true;
      sawEof = true;
    });
    parser.on('ignoredEntry', (e: ReadEntry) =>
      fail(opts.bad(`member ${JSON.stringify(e.path)} has an oversized header`, e.path)),
    );
    parser.on('error', (err: Error & { code?: string }) => {
      // node-tar calls an archive of nothing but end-of-archive blocks "unrecognized"; it is a valid
      // empty tar (`tar -cf x.tar -T /dev/null`), as an empty directory is a valid empty tree.
      if (err.code === 'TAR_BAD_ARCHIVE' && sawEof && entries === 0) return;
      fail(opts.bad(`not a complete tar archive (${err.message})`));
    });
    parser.on('entry', (entry: ReadEntry) => {
      endMarker = false;
      entries++;
      if (failed) {
        entry.resume();
        return;
      }
      try {
        opts.onEntry(entry);
      } catch (err) {
        entry.resume();
        fail(err);
      }
    });
    parser.on('end', () => {
      if (failed) return;
      if (!endMarker) fail(opts.bad('truncated: the end-of-archive marker is missing'));
      else resolve();
    });
    source.on('error', (err) =>
      fail(err instanceof PstoreError ? err : opts.bad(`cannot be read (${err.message})`)),
    );
    source.on('data', (chunk: Buffer) => {
      let accepted: boolean;
      try {
        accepted = parser.write(chunk);
      } catch (err) {
        // node-tar throws from write() for formats it recognizes but cannot read here (zstd on Node 20).
        fail(opts.bad(`cannot be read (${(err as Error).message})`));
        return;
      }
      if (failed) return;
      if (!accepted || opts.queue.full) {
        source.pause();
        const waits: Array<Promise<unknown>> = [opts.queue.room()];
        if (!accepted) waits.push(new Promise((r) => parser.once('drain', r)));
        void Promise.all(waits).then(() => {
          if (!failed) source.resume();
        });
      }
    });
    source.on('end', () => parser.end());
  });
  return { done, stream };
}
