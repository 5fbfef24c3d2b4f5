// Ingest files given in memory (an installer that generated them): the same rules as any tree.

import { normalizeMemberPath } from '../core/safe-path.js';
import type { StoreLayout } from '../store/layout.js';
import { hashBuffer, writeHashedBufferSync } from '../store/objects.js';
import { TreeCollector } from '../core/tree.js';
import type { EntryDir, EntrySymlink } from '../core/types.js';
import { IngestTally, Pacer, type IngestOptions, type IngestResult } from './source.js';

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
  const pacer = new Pacer();
  const files = list.filter(isFile);
  tally.start(
    files.length,
    files.reduce((sum, f) => sum + byteLength(f.data), 0),
  );
  for (const item of list) {
    // Progress (with an abort's check) and turns of the event loop, as a directory's ingest has.
    await pacer.turn();
    const member = normalizeMemberPath(item.path);
    if (item.type === 'dir') {
      if (member !== '') tally.collector.add({ path: member, type: 'dir' }); // the root is implied
    } else if (item.type === 'symlink') {
      tally.collector.add({ path: member, type: 'symlink', target: item.target });
    } else {
      const exec = item.exec ?? false;
      const data = typeof item.data === 'string' ? Buffer.from(item.data) : item.data;
      tally.counted(member, data.byteLength);
      const hashed = hashBuffer(data, exec);
      tally.addFile(member, exec, hashed);
      // In memory already: synchronous writes spare a thread-pool round trip per call (SPEC.md §Add).
      tally.wrote(writeHashedBufferSync(layout, hashed), hashed.size);
    }
  }
  return tally.result();
}

type InMemoryRegular = Extract<InMemoryFile, { data: unknown }>;

function isFile(item: InMemoryFile): item is InMemoryRegular {
  return item.type !== 'dir' && item.type !== 'symlink';
}

function byteLength(data: string | Uint8Array): number {
  return typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
}
