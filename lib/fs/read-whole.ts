// Reading a big file in one read (SPEC.md §Manifest and entry id, *Reading*): fs.promises.readFile reads in 512 KiB
// chunks, each one trip through libuv's thread pool, and during a transaction that pool also runs
// LevelDB's open and reads: a 100k-file manifest (27 MB, 54 chunks) waited ~125 ms there, ~80 ms
// in one read of its whole size (most of it the new buffer's page faults; ~25 ms on an idle pool).

import { promises as fsp } from 'node:fs';

/**
 * The bytes of `file` up to the size `fstat` gives, in one `read` (more only if the kernel returns
 * less). For files written whole and never changed (manifests): one that grew is read up to its
 * size then, one that shrank to its end.
 */
export async function readWhole(file: string): Promise<Buffer> {
  const fh = await fsp.open(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe((await fh.stat()).size);
    let off = 0;
    while (off < buffer.length) {
      const { bytesRead } = await fh.read(buffer, off, buffer.length - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    return buffer.subarray(0, off);
  } finally {
    await fh.close();
  }
}
