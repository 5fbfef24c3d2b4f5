// Removing a directory of many entries with memory bounded by a batch, not by the entry count.
// Node's `fs.promises.rm(dir, { recursive: true })` reads a whole directory and starts one
// removal per entry at once: for a staging directory of 100k hard links that is 100k pending
// requests and promises (issue 9: it set the peak RSS of an export).

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../core/errors.js';

/** Removals in flight at once: enough to keep the thread pool busy. */
const BATCH = 32;

/** `rm -rf dir`: absent is fine; never follows a symlink (one is removed as a name). */
export async function removeTree(dir: string): Promise<void> {
  let handle;
  try {
    handle = await fsp.opendir(dir, { bufferSize: BATCH });
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT') return;
    if (code === 'ENOTDIR') return fsp.rm(dir, { force: true });
    throw err;
  }
  let batch: Array<Promise<void>> = [];
  // Entries read are removed before more are read; removing read entries never skips an unread one.
  for await (const entry of handle) {
    const child = path.join(dir, entry.name);
    // a subdirectory is removed before going on, so the requests in flight stay at one batch
    if (entry.isDirectory()) await removeTree(child);
    else batch.push(fsp.rm(child, { force: true }));
    if (batch.length >= BATCH) {
      await Promise.all(batch);
      batch = [];
    }
  }
  await Promise.all(batch);
  await fsp.rmdir(dir).catch((err: unknown) => {
    if (errnoCode(err) !== 'ENOENT') throw err;
  });
}
