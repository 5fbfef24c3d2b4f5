// Reading many small files without a fresh buffer each: during ingest, a new buffer per file costs
// more in garbage collection than the read itself (SPEC.md §Ingest).

import fs from 'node:fs';

/** The largest buffer kept between reads; a larger read gets a buffer of its own. */
const KEEP_BYTES = 8 * 1024 * 1024;

/**
 * One buffer reused across reads. The view `read` returns is valid only until the next `read` of
 * the same reader: callers hash, compare or write it at once and keep nothing of it.
 */
export class ScratchReader {
  private buffer = Buffer.allocUnsafe(64 * 1024);

  /**
   * Up to `size` bytes of `fd` from offset 0; fewer when the file is shorter (it shrank). Into
   * `target` when given (at least `size` bytes), which the caller then owns.
   */
  read(fd: number, size: number, target = this.room(size)): Buffer {
    let off = 0;
    while (off < size) {
      const bytesRead = fs.readSync(fd, target, off, size - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    return target.subarray(0, off);
  }

  private room(size: number): Buffer {
    if (size > KEEP_BYTES) return Buffer.allocUnsafe(size);
    if (this.buffer.byteLength < size) this.buffer = Buffer.allocUnsafe(size);
    return this.buffer;
  }
}

/**
 * Buffers for reads whose bytes outlive the next read (hashed on another thread): each is given
 * back when its bytes are done with, and reused. A fresh buffer per file would cost its page
 * faults (the kernel zeroing each page) about what hashing the bytes costs.
 */
export class BufferPool {
  private readonly free: Buffer[] = [];

  /** A buffer of at least `size` bytes, the caller's until it gives it back. */
  take(size: number): Buffer {
    const found = this.free.pop();
    return found !== undefined && found.byteLength >= size ? found : Buffer.allocUnsafeSlow(size);
  }

  give(buffer: Buffer): void {
    this.free.push(buffer);
  }
}
