// What every ingest source returns, and the small pieces they share.

import type { Readable } from 'node:stream';
import type { IngestProgress, ManifestFile, ProgressListener } from '../core/types.js';
import { TreeCollector } from '../core/tree.js';
import type { StoreLayout } from '../store/layout.js';
import type { WriteQueue } from './write-queue.js';
import { EarlyWriteback, type FilesystemFlusher } from '../fs/writeback.js';

/** Files larger than this are streamed through the hasher instead of read whole. */
export const STREAM_THRESHOLD = 8 * 1024 * 1024;

export interface IngestOptions {
  onProgress?: ProgressListener;
  /** for a tar: how far the archive has been read, so progress counts its bytes */
  meter?: SourceMeter;
  /** flushes the store's filesystem: objects written then start their writeback early */
  flusher?: Pick<FilesystemFlusher, 'flush'>;
}

/** How far a source has been read, where its own bytes measure progress better than its files. */
export interface SourceMeter {
  /** bytes of the source read so far */
  read(): number;
  /** the source's size in bytes, when known (a file, or stdin redirected from one) */
  size?: number;
}

/** A meter for a stream that counts what it has read (fs.ReadStream, net.Socket), else none. */
export function streamMeter(stream: Readable, size?: number): SourceMeter | undefined {
  const counted = stream as Readable & { bytesRead?: unknown };
  if (typeof counted.bytesRead !== 'number') return undefined;
  return { read: () => counted.bytesRead as number, ...(size !== undefined ? { size } : {}) };
}

export interface IngestResult {
  files: ManifestFile[];
  /** objects this ingest wrote (the rest were in the store already) */
  objectsWritten: number;
}

/**
 * Throttled progress: at most one event per 100 ms, so huge trees do not flood listeners; an
 * announcement (`force`: the phase begins, or its totals become known) always goes through.
 */
export function throttled<E>(
  listener: ((e: E) => void) | undefined,
): (e: () => E, force?: boolean) => void {
  if (!listener) return () => {};
  let last = 0;
  return (event, force = false) => {
    const now = Date.now();
    if (!force && now - last < 100) return;
    last = now;
    listener(event());
  };
}

/** YIELD_MS of synchronous work at most between two turns of the event loop. */
const YIELD_MS = 20;

/**
 * Turns of the event loop for a producer that works synchronously (small files are read, hashed
 * and written with synchronous calls): streams, timers and an abort (a signal handler, a timeout)
 * run at least every YIELD_MS.
 */
export class Pacer {
  private last = Date.now();

  async turn(): Promise<void> {
    if (Date.now() - this.last < YIELD_MS) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.last = Date.now();
  }
}

/**
 * Run the producer, then wait for every queued write and background flush; the first failure of
 * any wins.
 */
export async function settleAll(
  produce: () => Promise<void>,
  queue: WriteQueue,
  writeback?: EarlyWriteback,
): Promise<void> {
  let failure: unknown;
  for (const step of [produce, () => queue.drain(), () => writeback?.finish()]) {
    try {
      await step();
    } catch (err) {
      failure ??= err;
    }
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
  /** the objects written flush in the background as they pile up (SPEC.md §Add, step 5) */
  readonly writeback: EarlyWriteback | undefined;
  private totals: { total?: number; totalBytes?: number } = {};
  private readonly progress: ReturnType<typeof throttled<IngestProgress>>;

  constructor(
    readonly collector: TreeCollector,
    onProgress: ProgressListener | undefined,
    private readonly meter?: SourceMeter,
    flusher?: Pick<FilesystemFlusher, 'flush'>,
  ) {
    this.progress = throttled(onProgress);
    this.writeback = flusher === undefined ? undefined : new EarlyWriteback(flusher);
    if (meter?.size !== undefined) this.totals = { totalBytes: meter.size };
  }

  /** The phase begins; with `files` and `bytes` when a walk has counted them. */
  start(files?: number, bytes?: number): void {
    if (files !== undefined) this.totals = { total: files, totalBytes: bytes ?? 0 };
    this.progress(() => this.event(), true);
  }

  /** A regular file of `size` bytes is about to be read. */
  counted(member: string, size: number): void {
    this.files++;
    this.bytes += size;
    this.progress(() => this.event(member));
  }

  private event(subject?: string): IngestProgress {
    return {
      phase: 'ingest',
      unit: 'files',
      done: this.files,
      bytes: this.meter ? this.meter.read() : this.bytes,
      ...this.totals,
      ...(subject !== undefined ? { subject } : {}),
    };
  }

  /**
   * A regular file's content is known: it joins the tree. `linkable`: later members may be hard
   * links to it (a tar's), so the collector keeps its object key; a tree's files need none kept
   * (100k keys are ~20 MB).
   */
  addFile(
    member: string,
    exec: boolean,
    obj: Pick<HashedObject, 'size' | 'integrity'> & { key?: string },
    linkable = false,
  ): void {
    this.collector.add(
      { path: member, type: 'file', exec, size: obj.size, integrity: obj.integrity },
      linkable ? obj.key : undefined,
    );
  }

  /** An object of `size` bytes was placed (`written`) or found present. */
  wrote(written: boolean, size: number): void {
    if (!written) return;
    this.written++;
    this.writeback?.wrote(size);
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
    this.tally = new IngestTally(this.collector, opts.onProgress, opts.meter, opts.flusher);
  }

  /** Walk the source, then wait for every queued write: what was ingested. */
  async ingest(walk: () => Promise<void>): Promise<IngestResult> {
    await settleAll(walk, this.queue, this.tally.writeback);
    return this.tally.result();
  }
}
