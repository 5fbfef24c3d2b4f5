// Overlapping the flush with the writes it will make durable (SPEC.md §Add, step 5). An ingest
// writes objects unflushed and flushes the filesystem once before the manifest; left alone, the
// kernel writes those bytes back only then (or after its 30 s expiry), so the disk idles while
// the CPU hashes and the CPU idles while the disk flushes. A syncfs started in the background
// each time enough bytes were written since the last one lets the disk work meanwhile: the final
// flush finds little left. Each is only a head start; the final flush is what a commit relies on.

import { syncFilesystem } from './atomic.js';

/** Bytes written between two background flushes: a `sync` process each costs a few ms. */
export const WRITEBACK_BYTES = 16 * 1024 * 1024;

export class EarlyWriteback {
  private unflushed = 0;
  private running: Promise<void> | undefined;
  private failure: unknown;

  constructor(
    private readonly root: string,
    private readonly everyBytes = WRITEBACK_BYTES,
  ) {}

  /** `bytes` more were written unflushed: start a background flush if enough have piled up. */
  wrote(bytes: number): void {
    this.unflushed += bytes;
    if (this.unflushed < this.everyBytes || this.running !== undefined) return;
    this.unflushed = 0;
    this.running = syncFilesystem(this.root).then(
      () => {
        this.running = undefined;
      },
      (err: unknown) => {
        this.failure ??= err;
        this.running = undefined;
      },
    );
  }

  /**
   * Wait for a background flush under way. One that failed fails the ingest: a writeback error is
   * reported once, to the syncfs that saw it, so the final flush would not see it again.
   */
  async finish(): Promise<void> {
    await this.running;
    if (this.failure !== undefined) throw this.failure;
  }
}
