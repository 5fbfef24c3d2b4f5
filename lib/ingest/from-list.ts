// Ingest files given in memory (an installer that generated them): the same rules as any tree.

import { normalizeMemberPath } from '../core/safe-path.js';
import type { StoreLayout } from '../store/layout.js';
import { hashBuffer, writeHashedBufferSync } from '../store/objects.js';
import { TreeCollector } from '../core/tree.js';
import type { EntryDir, EntrySymlink } from '../core/types.js';
import { IngestTally, type IngestOptions, type IngestResult } from './source.js';

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
  opts: IngestOptions = {},
): Promise<IngestResult> {
  const tally = new IngestTally(new TreeCollector('file list'), opts.onProgress);
  const files = list.filter(
    (item): item is Extract<InMemoryFile, { data: unknown }> =>
      item.type === undefined || item.type === 'file',
  );
  // Everything is in memory: the totals are known before the first file.
  tally.start(
    files.length,
    files.reduce((sum, f) => sum + byteLength(f.data), 0),
  );
  for (const item of list) {
    const member = normalizeMemberPath(item.path);
    if (item.type === 'dir') {
      if (member !== '') tally.collector.add({ path: member, type: 'dir' }); // the root is implied
    } else if (item.type === 'symlink') {
      tally.collector.add({ path: member, type: 'symlink', target: item.target });
    } else {
      const exec = item.exec ?? false;
      const hashed = hashBuffer(
        typeof item.data === 'string' ? Buffer.from(item.data) : item.data,
        exec,
      );
      tally.counted(member, hashed.size);
      tally.addFile(member, exec, hashed);
      // In memory already: synchronous writes spare a thread-pool round trip per call (SPEC.md §Add).
      tally.wrote(writeHashedBufferSync(layout, hashed));
    }
  }
  return tally.result();
}

function byteLength(data: string | Uint8Array): number {
  return typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
}
