// One walked file read whole, hashed and placed with synchronous calls: how the main thread stores
// a small file and how an ingest worker stores every file it takes (SPEC.md §Ingest).

import fs from 'node:fs';
import type { ScratchReader } from '../fs/scratch-read.js';
import type { StoreLayout } from '../store/layout.js';
import { hashBuffer, writeHashedBufferSync, type HashedBuffer } from '../store/write-buffer.js';
import { openWalkedFile, type WalkedFile } from './dir-walk.js';
import type { ObjectClaims } from './shared-work.js';

/** What a thread learned of a file and did with it. */
export interface StoredFile {
  integrity: string;
  size: number;
  exec: boolean;
  /** this thread placed the object (it was absent or damaged) */
  written: boolean;
}

export function storeWholeFile(
  layout: StoreLayout,
  reader: ScratchReader,
  found: WalkedFile,
  claims: ObjectClaims | undefined,
): StoredFile {
  const { fd, st } = openWalkedFile(found);
  try {
    return storeOpenFile(layout, reader, fd, st, claims);
  } finally {
    fs.closeSync(fd);
  }
}

/** {@link storeWholeFile} of a file open already (as `fd`, of which `st` is the fstat). */
export function storeOpenFile(
  layout: StoreLayout,
  reader: ScratchReader,
  fd: number,
  st: { mode: number; size: number },
  claims: ObjectClaims | undefined,
): StoredFile {
  const exec = (st.mode & 0o111) !== 0;
  const hashed = hashBuffer(reader.read(fd, st.size), exec);
  const written = placeClaimed(layout, hashed, claims);
  return { integrity: hashed.integrity, size: hashed.size, exec, written };
}

/**
 * Place an object unless another thread of this ingest claimed it first (that one places it, or
 * finds it intact, before the ingest ends). True when this call wrote it.
 */
export function placeClaimed(
  layout: StoreLayout,
  hashed: HashedBuffer,
  claims: ObjectClaims | undefined,
): boolean {
  if (claims !== undefined && !claims.claim(hashed.key)) return false;
  return writeHashedBufferSync(layout, hashed);
}
