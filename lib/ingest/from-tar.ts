// Ingest a tar (optionally gzipped) stream. node-tar's Parser only parses here; its extraction-time
// protections do not run, so every member goes through safe-path.ts and TreeCollector's rules.

import type { Readable } from 'node:stream';
import type { ReadEntry } from 'tar';
import { PstoreError } from '../core/errors.js';
import { normalizeMemberPath, unsafe } from '../core/safe-path.js';
import type { StoreLayout } from '../store/layout.js';
import { hashBuffer, writeHashedBuffer, writeObjectFromStream } from '../store/objects.js';
import { TreeCollector } from '../core/tree.js';
import {
  STREAM_THRESHOLD,
  type IngestOptions,
  type IngestResult,
  reportProgress,
  settleAll,
} from './source.js';
import { readTarStream, type TarStream } from './tar-stream.js';
import { WriteQueue } from './write-queue.js';

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);

export async function ingestTar(
  layout: StoreLayout,
  source: Readable,
  sourceName: string,
  opts: IngestOptions = {},
): Promise<IngestResult> {
  const collector = new TreeCollector(sourceName);
  const queue = new WriteQueue();
  const stats = { written: 0, files: 0, bytes: 0 };
  const progress = reportProgress(opts.onProgress, 'ingest');
  const bad = (why: string, subject = sourceName): PstoreError =>
    new PstoreError('EPSTORE_BAD_ARCHIVE', `${sourceName}: ${why}`, { subject });
  /** large members whose hash is not known yet, for hard links to them */
  const pendingLarge = new Map<string, Promise<void>>();

  const onEntry = (entry: ReadEntry): void => {
    const member = normalizeMemberPath(entry.path);
    const type = entry.type;
    if (member === '') {
      if (type !== 'Directory')
        throw bad(
          `member ${JSON.stringify(entry.path)} names the root but is not a directory`,
          entry.path,
        );
      entry.resume();
      return;
    }
    if (type === 'Directory') {
      collector.add({ path: member, type: 'dir' });
      entry.resume();
    } else if (type === 'SymbolicLink') {
      const target = entry.linkpath ?? '';
      if (target === '' || target.includes('\0'))
        throw bad(
          `symlink ${JSON.stringify(entry.path)} has an empty or invalid target`,
          entry.path,
        );
      collector.add({ path: member, type: 'symlink', target });
      entry.resume();
    } else if (type === 'Link') {
      addHardLink(entry, member);
      entry.resume();
    } else if (FILE_TYPES.has(type)) {
      collector.checkPlace(member);
      addFile(entry, member);
    } else {
      throw new PstoreError(
        'EPSTORE_UNSUPPORTED_TYPE',
        `${sourceName}: member ${JSON.stringify(entry.path)} is a ${type}; only files, directories, symlinks and hard links can be stored`,
        { subject: entry.path },
      );
    }
  };

  const addHardLink = (entry: ReadEntry, member: string): void => {
    const raw = entry.linkpath ?? '';
    let target: string;
    try {
      target = normalizeMemberPath(raw);
    } catch {
      throw unsafe(entry.path, `is a hard link to ${JSON.stringify(raw)}, outside the archive`);
    }
    const link = () => {
      const file = collector.get(target);
      const key = collector.objectKeyOf(target);
      if (file?.type !== 'file' || key === undefined) {
        throw unsafe(
          entry.path,
          `is a hard link to ${JSON.stringify(raw)}, which is not an earlier regular file of the archive`,
        );
      }
      collector.add({ ...file, path: member }, key);
    };
    const pending = pendingLarge.get(target);
    if (pending) {
      collector.checkPlace(member);
      queue.push(0, async () => {
        await pending;
        link();
      });
    } else {
      link();
    }
  };

  const addFile = (entry: ReadEntry, member: string): void => {
    const exec = ((entry.mode ?? 0o644) & 0o111) !== 0;
    const size = entry.size ?? 0;
    stats.files++;
    stats.bytes += size;
    progress(stats.files, stats.bytes, member);
    if (size > STREAM_THRESHOLD) {
      // Streamed, not buffered: its bytes flow only while the source flows, so it must not count
      // against the queue's byte bound (that would pause the source it needs and stall).
      const pass = tar.stream(entry);
      let done!: () => void;
      pendingLarge.set(member, new Promise<void>((r) => (done = r)));
      queue.push(0, async () => {
        try {
          const obj = await writeObjectFromStream(layout, pass, exec);
          collector.add(
            { path: member, type: 'file', exec, size: obj.size, integrity: obj.integrity },
            obj.key,
          );
          if (obj.written) stats.written++;
        } finally {
          done();
        }
      });
      return;
    }
    const chunks: Buffer[] = [];
    entry.on('data', (c: Buffer) => chunks.push(c));
    entry.on('end', () => {
      const hashed = hashBuffer(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), exec);
      try {
        collector.add(
          { path: member, type: 'file', exec, size: hashed.size, integrity: hashed.integrity },
          hashed.key,
        );
      } catch (err) {
        queue.push(0, () => Promise.reject(err));
        return;
      }
      queue.push(hashed.size, async () => {
        if ((await writeHashedBuffer(layout, hashed, exec)).written) stats.written++;
      });
    });
  };

  let tar!: TarStream;
  await settleAll(() => {
    tar = readTarStream(source, { queue, onEntry, bad });
    return tar.done;
  }, queue);
  return { files: collector.files(), objectsWritten: stats.written };
}
