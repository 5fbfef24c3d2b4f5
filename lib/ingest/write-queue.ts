// Bounded concurrency for object writes during ingest: hashing happens in member order, writing
// overlaps, and the source is paused while too many bytes wait to be written (so memory stays flat
// however large the tree is).

export class WriteQueue {
  private pendingBytes = 0;
  private pendingCount = 0;
  private failure: unknown;
  private readonly waiters: Array<() => void> = [];
  private readonly idle: Array<() => void> = [];
  private readonly failureListeners: Array<(err: unknown) => void> = [];

  constructor(
    private readonly maxBytes = 64 * 1024 * 1024,
    private readonly maxCount = 64,
  ) {}

  get failed(): unknown {
    return this.failure;
  }

  get full(): boolean {
    return this.pendingBytes >= this.maxBytes || this.pendingCount >= this.maxCount;
  }

  /** Start `job`; its bytes count against the bound until it settles. */
  push(bytes: number, job: () => Promise<unknown>): void {
    this.pendingBytes += bytes;
    this.pendingCount++;
    job().then(
      () => this.settle(bytes),
      (err) => {
        if (this.failure === undefined) {
          this.failure = err;
          for (const l of this.failureListeners.splice(0)) l(err);
        }
        this.settle(bytes);
      },
    );
  }

  /**
   * Call `listener` with the first failure, at once (or now, if a job failed already): a producer
   * whose consumer failed must stop feeding it, or it waits forever on bytes nobody reads.
   */
  onFailure(listener: (err: unknown) => void): void {
    if (this.failure !== undefined) listener(this.failure);
    else this.failureListeners.push(listener);
  }

  /** Resolves once there is room for more work. */
  async room(): Promise<void> {
    while (this.full) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** Resolves when every job has settled; rejects with the first failure. */
  async drain(): Promise<void> {
    while (this.pendingCount > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
    if (this.failure !== undefined) throw this.failure;
  }

  private settle(bytes: number): void {
    this.pendingBytes -= bytes;
    this.pendingCount--;
    for (const w of this.waiters.splice(0)) w();
    if (this.pendingCount === 0) for (const w of this.idle.splice(0)) w();
  }
}
