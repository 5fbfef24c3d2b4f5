// The ingest worker thread (SPEC.md §Ingest, threads): takes whole files from the list it shares
// with the main thread (shared-work.ts) and stores each as the main thread would (whole-file.ts),
// reporting what it stored in batches. A failure stops both threads' claiming and is sent as data
// (thread-error.ts); the worker then ends. It loads only the synchronous in-memory object code.

import { parentPort } from 'node:worker_threads';
import { ScratchReader } from '../fs/scratch-read.js';
import type { StoreLayout } from '../store/layout.js';
import type { WalkedFile } from './dir-walk.js';
import { FileClaims, ObjectClaims } from './shared-work.js';
import { sendError } from '../core/thread-error.js';
import { storeWholeFile } from './whole-file.js';

/** The worker's list and what it shares, posted once the walk is done (structured-cloned). */
export interface WorkerStart {
  layout: StoreLayout;
  files: WalkedFile[];
  claims: SharedArrayBuffer;
  objects: SharedArrayBuffer;
}

/**
 * A worker's messages. `stored` is flat: index in the list, integrity, size, flags (1: exec,
 * 2: written), repeated; one array per batch is far cheaper to clone than an object per file.
 */
export type WorkerMessage =
  { stored: Array<string | number> } | { failed: ReturnType<typeof sendError> } | { done: true };

/** A batch is sent after this many files or bytes: progress and early writeback stay current. */
const BATCH_FILES = 64;
const BATCH_BYTES = 4 * 1024 * 1024;

function run(start: WorkerStart, post: (m: WorkerMessage) => void): void {
  const claims = new FileClaims(start.files.length, start.claims);
  const objects = new ObjectClaims(start.objects);
  const reader = new ScratchReader();
  let batch: Array<string | number> = [];
  let bytes = 0;
  const send = (): void => {
    if (batch.length > 0) post({ stored: batch });
    batch = [];
    bytes = 0;
  };
  try {
    for (let i = claims.next(); i !== -1; i = claims.next()) {
      const f = storeWholeFile(start.layout, reader, start.files[i]!, objects);
      batch.push(i, f.integrity, f.size, (f.exec ? 1 : 0) | (f.written ? 2 : 0));
      bytes += f.size;
      if (batch.length >= BATCH_FILES * 4 || bytes >= BATCH_BYTES) send();
    }
    send();
  } catch (err) {
    claims.stop();
    send(); // what was stored before the failure, then the failure
    post({ failed: sendError(err) });
  }
  post({ done: true });
}

// Started during the walk; the list comes when the walk is done. The port is let go after it, so
// the worker ends when its work does.
if (parentPort) {
  const port = parentPort;
  port.once('message', (start: WorkerStart) => {
    port.unref();
    run(start, (m) => port.postMessage(m));
  });
}
