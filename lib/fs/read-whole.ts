// Reading a big file in one read (SPEC.md §Manifest and entry id, *Reading*): fs.promises.readFile
// reads in 512 KiB chunks, each one trip through libuv's thread pool, and during a transaction
// that pool also runs LevelDB's open and reads: a 100k-file manifest (27 MB, 54 chunks) waited
// ~125 ms there. Read on the calling thread instead, in one `read` of the size `fstat` gives.

import fs from 'node:fs';
import { ScratchReader } from './scratch-read.js';

/** Its loop only: every read goes into a buffer of the file's own size. */
const reader = new ScratchReader();

/**
 * The bytes of `file` up to the size `fstat` gives (for files written whole and never changed,
 * such as manifests: one that grew is read up to that size, one that shrank to its end).
 */
export function readWhole(file: string): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    return reader.read(fd, size, Buffer.allocUnsafe(size));
  } finally {
    fs.closeSync(fd);
  }
}
