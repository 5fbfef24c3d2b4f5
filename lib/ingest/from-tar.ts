// Ingest a tar (optionally gzipped) stream. node-tar's Parser only parses here; its extraction-time
// protections do not run, so every member goes through safe-path.ts and TreeCollector's rules.
// The archive must be complete: node-tar accepts one cut at a block boundary silently, so pstore
// also demands the end-of-archive null block.

import { PassThrough, type Readable } from 'node:stream';
import { Parser, type ReadEntry } from 'tar';
import { PstoreError } from '../errors.js';
import { normalizeMemberPath, unsafe } from '../fs/safe-path.js';
import type { StoreLayout } from '../store/layout.js';
import { hashBuffer, writeHashedBuffer, writeObjectFromStream } from '../store/objects.js';
import { TreeCollector } from './collect.js';
import { STREAM_THRESHOLD, type IngestOptions, type IngestResult, reportProgress, settleAll } from './source.js';
import { WriteQueue } from './write-queue.js';

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);

export async function ingestTar(layout: StoreLayout, source: Readable, sourceName: string, opts: IngestOptions = {}): Promise<IngestResult> {
  const collector = new TreeCollector(sourceName);
  const queue = new WriteQueue();
  const stats = { written: 0, files: 0, bytes: 0 };
  const progress = reportProgress(opts.onProgress, 'ingest');
  const bad = (why: string, subject = sourceName): PstoreError =>
    new PstoreError('EPSTORE_BAD_ARCHIVE', `${sourceName}: ${why}`, { subject });
  /** large members stream through these; a parse failure must end them, or their writes never finish */
  const streaming = new Set<PassThrough>();
  /** large members whose hash is not known yet, for hard links to them */
  const pendingLarge = new Map<string, Promise<void>>();

  const parse = () => new Promise<void>((resolve, reject) => {
    const parser = new Parser({ strict: true });
    let endMarker = false;
    let sawEof = false;
    let entries = 0;
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      source.unpipe(parser);
      source.destroy();
      for (const pass of streaming) pass.destroy(err instanceof Error ? err : new Error(String(err)));
      reject(err);
    };
    parser.on('nullBlock', () => { endMarker = true; });
    parser.on('eof', () => { endMarker = true; sawEof = true; });
    parser.on('ignoredEntry', (e: ReadEntry) => fail(bad(`member ${JSON.stringify(e.path)} has an oversized header`, e.path)));
    parser.on('error', (err: Error & { code?: string }) => {
      // node-tar calls an archive of nothing but end-of-archive blocks "unrecognized"; it is a valid
      // empty tar (`tar -cf x.tar -T /dev/null`), as an empty directory is a valid empty tree.
      if (err.code === 'TAR_BAD_ARCHIVE' && sawEof && entries === 0) return;
      fail(bad(`not a complete tar archive (${err.message})`));
    });
    parser.on('entry', (entry: ReadEntry) => {
      endMarker = false;
      entries++;
      if (failed) { entry.resume(); return; }
      try {
        onEntry(entry);
      } catch (err) {
        entry.resume();
        fail(err);
      }
    });
    parser.on('end', () => {
      if (failed) return;
      if (!endMarker) fail(bad('truncated: the end-of-archive marker is missing'));
      else resolve();
    });
    source.on('error', (err) => fail(new PstoreError('EPSTORE_BAD_ARCHIVE', `${sourceName}: cannot read (${err.message})`, { subject: sourceName, cause: err })));
    // Pause the source while too many bytes wait to be written.
    source.on('data', (chunk: Buffer) => {
      let accepted: boolean;
      try {
        accepted = parser.write(chunk);
      } catch (err) {
        // node-tar throws from write() for formats it recognizes but cannot read here (zstd on Node 20).
        fail(bad(`cannot be read (${(err as Error).message})`));
        return;
      }
      if (failed) return;
      if (!accepted || queue.full) {
        source.pause();
        const waits: Array<Promise<unknown>> = [queue.room()];
        if (!accepted) waits.push(new Promise((r) => parser.once('drain', r)));
        void Promise.all(waits).then(() => { if (!failed) source.resume(); });
      }
    });
    source.on('end', () => parser.end());
  });

  const onEntry = (entry: ReadEntry): void => {
    const member = normalizeMemberPath(entry.path);
    const type = entry.type;
    if (member === '') {
      if (type !== 'Directory') throw bad(`member ${JSON.stringify(entry.path)} names the root but is not a directory`, entry.path);
      entry.resume();
      return;
    }
    if (type === 'Directory') {
      collector.add({ path: member, type: 'dir' });
      entry.resume();
    } else if (type === 'SymbolicLink') {
      const target = entry.linkpath ?? '';
      if (target === '' || target.includes('\0')) throw bad(`symlink ${JSON.stringify(entry.path)} has an empty or invalid target`, entry.path);
      collector.add({ path: member, type: 'symlink', target });
      entry.resume();
    } else if (type === 'Link') {
      addHardLink(entry, member);
      entry.resume();
    } else if (FILE_TYPES.has(type)) {
      collector.checkPlace(member);
      addFile(entry, member);
    } else {
      throw new PstoreError('EPSTORE_UNSUPPORTED_TYPE', `${sourceName}: member ${JSON.stringify(entry.path)} is a ${type}; only files, directories, symlinks and hard links can be stored`, { subject: entry.path });
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
        throw unsafe(entry.path, `is a hard link to ${JSON.stringify(raw)}, which is not an earlier regular file of the archive`);
      }
      collector.add({ ...file, path: member }, key);
    };
    const pending = pendingLarge.get(target);
    if (pending) {
      collector.checkPlace(member);
      queue.push(0, async () => { await pending; link(); });
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
      const pass = new PassThrough();
      streaming.add(pass);
      entry.pipe(pass);
      let done!: () => void;
      pendingLarge.set(member, new Promise<void>((r) => (done = r)));
      queue.push(0, async () => {
        try {
          const obj = await writeObjectFromStream(layout, pass, exec);
          collector.add({ path: member, type: 'file', exec, size: obj.size, integrity: obj.integrity }, obj.key);
          if (obj.written) stats.written++;
        } finally {
          streaming.delete(pass);
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
        collector.add({ path: member, type: 'file', exec, size: hashed.size, integrity: hashed.integrity }, hashed.key);
      } catch (err) {
        queue.push(0, () => Promise.reject(err));
        return;
      }
      queue.push(hashed.size, async () => {
        if ((await writeHashedBuffer(layout, hashed, exec)).written) stats.written++;
      });
    });
  };

  await settleAll(parse, queue);
  return { files: collector.files(), objectsWritten: stats.written };
}
