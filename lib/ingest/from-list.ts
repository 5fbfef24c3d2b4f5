// Ingest files given in memory (an installer that generated them): the same rules as any tree.

import { normalizeMemberPath } from '../core/safe-path.js';
import type { StoreLayout } from '../store/layout.js';
import { hashBuffer, writeHashedBufferSync } from '../store/objects.js';
import { TreeCollector } from '../core/tree.js';
import type { EntryDir, EntrySymlink } from '../core/types.js';
import type { IngestResult } from './source.js';

/** One path of an entry given in memory ({@link AddSource}); `path` is relative to the entry root. */
export type InMemoryFile =
  | {
      /** relative path, `/`-separated */
      path: string;
      /** a regular file (the default) */
      type?: 'file';
      /** the content; a string is written as UTF-8 */
      data: string | Uint8Array;
      /** whether the file is executable (default false) */
      exec?: boolean;
    }
  | EntryDir
  | EntrySymlink;

export async function ingestFileList(
  layout: StoreLayout,
  list: readonly InMemoryFile[],
): Promise<IngestResult> {
  const collector = new TreeCollector('file list');
  let written = 0;
  for (const item of list) {
    const member = normalizeMemberPath(item.path);
    if (item.type === 'dir') {
      if (member !== '') collector.add({ path: member, type: 'dir' }); // the root itself is implied
    } else if (item.type === 'symlink') {
      collector.add({ path: member, type: 'symlink', target: item.target });
    } else {
      const exec = item.exec ?? false;
      const hashed = hashBuffer(
        typeof item.data === 'string' ? Buffer.from(item.data) : item.data,
        exec,
      );
      collector.add(
        { path: member, type: 'file', exec, size: hashed.size, integrity: hashed.integrity },
        hashed.key,
      );
      // In memory already: synchronous writes spare a thread-pool round trip per call (SPEC.md §Add).
      if (writeHashedBufferSync(layout, hashed)) written++;
    }
  }
  return { files: collector.files(), objectsWritten: written };
}
