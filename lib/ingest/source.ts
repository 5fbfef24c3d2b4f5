// What every ingest source returns, and the small pieces they share.

import type { ManifestFile, ProgressListener, ProgressPhase } from '../core/types.js';
import { TreeCollector } from '../core/tree.js';
import type { StoreLayout } from '../store/layout.js';
import type { WriteQueue } from './write-queue.js';

/** Files larger than this are streamed through the hasher instead of read whole. */
export const STREAM_THRESHOLD = 8 * 1024 * 1024;

export interface IngestOptions {
  onProgress?: ProgressListener;
}

export interface IngestResult {
  files: ManifestFile[];
  /** objects this ingest wrote (the rest were in the store already) */
  objectsWritten: number;
}

/** Throttled progress: at most one event per 100 ms, so huge trees do not flood listeners. */
function reportProgress(
  listener: ProgressListener | undefined,
  phase: ProgressPhase,
): (done: number, bytes: number, subject: string) => void {
  if (!listener) return () => {};
  let last = 0;
  return (done, bytes, subject) => {
    const now = Date.now();
    if (now - last < 100) return;
    last = now;
    listener({ phase, done, bytes, subject });
  };
}

/** Run the producer, then wait for every queued write; the first failure of either wins. */
export async function settleAll(produce: () => Promise<void>, queue: WriteQueue): Promise<void> {
  let failure: unknown;
  try {
    await produce();
  } catch (err) {
    failure = err;
  }
  try {
    await queue.drain();
  } catch (err) {
    failure ??= err;
  }
  if (failure !== undefined) throw failure;
}

/** A file's object as ingest knows it once hashed. */
export interface HashedObject {
  key: string;
  size: number;
  integrity: string;
}

/** What every ingest source counts: files and bytes seen (reported as progress), objects written. */
export class IngestTally {
  private files = 0;
  private bytes = 0;
  private written = 0;
  private readonly progress: ReturnType<typeof reportProgress>;

  constructor(
    readonly collector: TreeCollector,
    onProgress: ProgressListener | undefined,
  ) {
    this.progress = reportProgress(onProgress, 'ingest');
  }

  /** A regular file of `size` bytes is about to be read. */
  counted(member: string, size: number): void {
    this.files++;
    this.bytes += size;
    this.progress(this.files, this.bytes, member);
  }

  /** A regular file's content is known: it joins the tree. */
  addFile(member: string, exec: boolean, obj: HashedObject): void {
    this.collector.add(
      { path: member, type: 'file', exec, size: obj.size, integrity: obj.integrity },
      obj.key,
    );
  }

  wrote(written: boolean): void {
    if (written) this.written++;
  }

  result(): IngestResult {
    return { files: this.collector.files(), objectsWritten: this.written };
  }
}

/** What a tree being ingested (a directory, a tar) holds: its paths so far, its tally, its writes. */
export abstract class TreeIngest {
  readonly collector: TreeCollector;
  readonly tally: IngestTally;

  constructor(
    protected readonly layout: StoreLayout,
    /** the directory, or the tar's name as messages give it */
    protected readonly sourceName: string,
    opts: IngestOptions,
    readonly queue: WriteQueue,
  ) {
    this.collector = new TreeCollector(sourceName);
    this.tally = new IngestTally(this.collector, opts.onProgress);
  }

  /** Walk the source, then wait for every queued write: what was ingested. */
  async ingest(walk: () => Promise<void>): Promise<IngestResult> {
    await settleAll(walk, this.queue);
    return this.tally.result();
  }
}
