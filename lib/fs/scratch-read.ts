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

  /** Up to `size` bytes of `fd` from offset 0; fewer when the file is shorter (it shrank). */
  read(fd: number, size: number): Buffer {
    const target = this.room(size);
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
