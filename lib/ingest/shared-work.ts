// What the threads of one directory ingest share (SPEC.md §Ingest, threads), in one
// SharedArrayBuffer each so that claiming costs an atomic operation, not a message: the next
// file to take (each thread takes whole files from one list, in order) and a stop flag; and the
// objects claimed, so that equal files taken by two threads are placed once and counted once.

/** Slots of the control array. */
const NEXT = 0;
const STOP = 1;

/** The file list's cursor and stop flag, shared by the threads taking files from it. */
export class FileClaims {
  private readonly ctrl: Int32Array;

  constructor(
    readonly count: number,
    readonly buffer = new SharedArrayBuffer(8),
  ) {
    this.ctrl = new Int32Array(buffer);
  }

  /** The index of the next file for this thread, or -1 when none is left or the work stopped. */
  next(): number {
    if (Atomics.load(this.ctrl, STOP) !== 0) return -1;
    const i = Atomics.add(this.ctrl, NEXT, 1);
    return i < this.count ? i : -1;
  }

  /** No thread takes another file (one failed, or the ingest was aborted). */
  stop(): void {
    Atomics.store(this.ctrl, STOP, 1);
  }
}

/**
 * Object keys claimed by the threads of one ingest: an open-addressing set of 64-bit values (60
 * bits of the sha512 and the exec bit) filled by compare-and-swap. The first thread to claim a key
 * places the object (or finds it intact); any other finds it claimed and neither checks nor
 * writes it. The ingest waits for every thread before it flushes, so an object claimed by one is
 * placed before the manifest whatever thread placed it.
 */
export class ObjectClaims {
  private readonly slots: BigUint64Array;
  private readonly mask: number;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.slots = new BigUint64Array(buffer);
    this.mask = this.slots.length - 1;
  }

  /** Room for `objects` keys at most half full (a power of two). */
  static forObjects(objects: number): ObjectClaims {
    let size = 1024;
    while (size < objects * 2) size *= 2;
    return new ObjectClaims(new SharedArrayBuffer(size * 8));
  }

  /** True for the first claim of `key` (an object key: sha512 hex, `-x` if executable). */
  claim(key: string): boolean {
    // never 0 (an empty slot): the low bit is always set, the next one is the exec bit
    const value = BigInt(`0x${key.slice(0, 15)}`) * 4n + (key.endsWith('-x') ? 3n : 1n);
    for (let i = Number(value & BigInt(this.mask)); ; i = (i + 1) & this.mask) {
      const found = Atomics.compareExchange(this.slots, i, 0n, value);
      if (found === 0n) return true;
      if (found === value) return false;
    }
  }
}
