// Reading a wheel's zip with yauzl (SPEC.md §Wheels): the central directory is read first and
// checked against the zip-bomb limits before any member is inflated; yauzl then refuses a member
// whose inflated bytes differ from its declared size, so the declared sizes the limits check are
// the sizes read. Names are decoded here (not by yauzl) so that every unsafe name is refused by
// pstore's own path policy, with its own code, naming the member.
// A wheel up to IN_MEMORY_ZIP_BYTES (nearly all of them) is read whole and yauzl parses it from
// memory through a reader that answers at once; members are inflated synchronously. Streams would
// cost several event-loop round trips per member, which is most of a small wheel's add.

import fs from 'node:fs';
import zlib from 'node:zlib';
import { PstoreError } from '../../core/errors.js';
import { normalizeMemberPath } from '../../core/safe-path.js';

/** one member of a wheel, its name normalized, its bytes read whole */
export interface ZipMember {
  path: string;
  data: Buffer;
  exec: boolean;
}

/** No wheel holds more members than this. */
export const MAX_ZIP_MEMBERS = 200_000;
/** The sum of declared member sizes a wheel may inflate to (it is held in memory). */
export const MAX_ZIP_BYTES = 2 * 1024 ** 3;
/** A member larger than `RATIO_FLOOR` whose size exceeds `MAX_RATIO` × its compressed size is a bomb. */
export const MAX_RATIO = 100;
export const RATIO_FLOOR = 8 * 1024 * 1024;
/** A zip file up to this size is read into memory whole; a larger one is streamed member by member. */
export const IN_MEMORY_ZIP_BYTES = 64 * 1024 * 1024;

type Yauzl = typeof import('yauzl');
type Entry = import('yauzl').Entry;

export async function readZip(file: string): Promise<ZipMember[]> {
  const yauzl: Yauzl = (await import('yauzl')).default;
  const whole = readSmallZip(file);
  let zip;
  try {
    zip = await openZip(yauzl, file, whole);
  } catch (err) {
    throw badZip(file, `is not a readable zip archive (${(err as Error).message})`, err);
  }
  try {
    const entries = await listEntries(file, zip);
    const members: ZipMember[] = [];
    for (const { entry, path } of entries) {
      if (entry.fileName.toString().endsWith('/')) continue; // directories: installers make parents
      const data = whole
        ? inflateEntry(file, zip, whole, entry)
        : await readEntry(file, zip, entry);
      members.push({ path, data, exec: isExecutable(entry) });
    }
    return members;
  } finally {
    zip.close();
  }
}

const ZIP_OPTIONS = {
  lazyEntries: true,
  autoClose: false,
  decodeStrings: false,
  validateEntrySizes: true,
} as const;

/** The whole file when it is at most IN_MEMORY_ZIP_BYTES, else undefined (it is streamed). */
function readSmallZip(file: string): Buffer | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    throw badZip(file, `cannot be opened (${(err as Error).message})`, err);
  }
  try {
    const size = fs.fstatSync(fd).size;
    return size <= IN_MEMORY_ZIP_BYTES ? fs.readFileSync(fd) : undefined;
  } finally {
    fs.closeSync(fd);
  }
}

async function openZip(
  yauzl: Yauzl,
  file: string,
  whole: Buffer | undefined,
): Promise<import('yauzl').ZipFile> {
  if (!whole) return yauzl.openPromise(file, ZIP_OPTIONS);
  return yauzl.fromRandomAccessReaderPromise(memoryReader(yauzl, whole), whole.length, ZIP_OPTIONS);
}

/** yauzl's reader over a buffer, answering each read at once (its own fromBuffer streams each). */
function memoryReader(yauzl: Yauzl, whole: Buffer): import('yauzl').RandomAccessReader {
  class MemoryReader extends yauzl.RandomAccessReader {
    override _readStreamForRange(): never {
      throw new Error('members are inflated from memory, not streamed');
    }
    override read(
      buffer: Buffer,
      offset: number,
      length: number,
      position: number,
      callback: (err: Error | null, bytesRead?: number) => void,
    ): void {
      callback(null, whole.copy(buffer, offset, position, position + length));
    }
  }
  return new MemoryReader();
}

/**
 * A member's bytes, inflated synchronously from the file in memory. yauzl finds where its data
 * starts (and checks it lies inside the file); the output may not exceed the declared size (so
 * the zip-bomb limits on declared sizes hold) and must equal it, as validateEntrySizes requires.
 */
function inflateEntry(
  file: string,
  zip: import('yauzl').ZipFile,
  whole: Buffer,
  entry: Entry,
): Buffer {
  try {
    const fileDataStart = dataStartInMemory(zip, entry);
    const raw = whole.subarray(fileDataStart, fileDataStart + entry.compressedSize);
    const data = decompress(entry, raw);
    if (data.length !== entry.uncompressedSize)
      throw new Error(`${data.length} bytes where ${entry.uncompressedSize} were declared`);
    return data;
  } catch (err) {
    throw unreadableMember(file, entry, err);
  }
}

/** Where a member's data starts: yauzl reads its local header (and checks the bounds) at once. */
function dataStartInMemory(zip: import('yauzl').ZipFile, entry: Entry): number {
  let start: number | undefined;
  let failure: Error | null = null;
  zip.readLocalFileHeader(entry, { minimal: true }, (err, header) => {
    failure = err;
    start = header?.fileDataStart;
  });
  if (failure !== null) throw failure;
  if (start === undefined) throw new Error('the local header was not read from memory at once');
  return start;
}

function decompress(entry: Entry, raw: Buffer): Buffer {
  if (entry.compressionMethod === 0) return raw;
  if (entry.compressionMethod !== 8)
    throw new Error(`unsupported compression method ${entry.compressionMethod}`);
  // One output chunk a byte larger than the declared size: zlib is not called again for a full
  // buffer, and there is no chunk list to concatenate; more output than declared is refused by
  // maxOutputLength.
  const declared = Math.max(1, entry.uncompressedSize);
  return zlib.inflateRawSync(raw, {
    maxOutputLength: declared,
    chunkSize: Math.max(zlib.constants.Z_MIN_CHUNK, declared + 1),
  });
}

async function listEntries(
  file: string,
  zip: import('yauzl').ZipFile,
): Promise<Array<{ entry: Entry; path: string }>> {
  const yauzl: Yauzl = (await import('yauzl')).default;
  if (zip.entryCount > MAX_ZIP_MEMBERS)
    throw badZip(file, `has ${zip.entryCount} members, more than ${MAX_ZIP_MEMBERS}`);
  const out: Array<{ entry: Entry; path: string }> = [];
  const seen = new Set<string>();
  let total = 0;
  try {
    for (const entry of await readEntries(zip)) {
      const raw = decodeName(yauzl, entry);
      const path = normalizeMemberPath(raw);
      if (seen.has(path))
        throw badZip(file, `holds the member ${JSON.stringify(raw)} twice`, undefined, raw);
      seen.add(path);
      total += entry.uncompressedSize;
      checkBomb(file, raw, entry, total);
      if (entry.isEncrypted()) throw badZip(file, `member ${JSON.stringify(raw)} is encrypted`);
      out.push({ entry, path });
    }
  } catch (err) {
    if (err instanceof PstoreError) throw err;
    throw badZip(file, `has a damaged central directory (${(err as Error).message})`, err);
  }
  return out;
}

/**
 * The central directory's entries, in order. A reader over memory answers before `readEntry`
 * returns, so the loop takes no promise or event-loop turn per entry (a wheel has hundreds); a
 * file's reader, or yauzl's own deferral (an entry with no name, extra or comment), is awaited.
 */
async function readEntries(zip: import('yauzl').ZipFile): Promise<Entry[]> {
  const entries: Entry[] = [];
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const onEntry = (entry: Entry): void => {
    entries.push(entry);
    wake?.();
  };
  const onError = (err: Error): void => {
    failure = err;
    wake?.();
  };
  zip.on('entry', onEntry).on('error', onError);
  try {
    while (entries.length < zip.entryCount) {
      const wanted = entries.length + 1;
      zip.readEntry();
      if (entries.length < wanted && failure === undefined)
        await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      if (failure !== undefined) throw failure;
    }
  } finally {
    zip.off('entry', onEntry).off('error', onError);
  }
  return entries;
}

function decodeName(yauzl: Yauzl, entry: Entry): string {
  const raw = entry.fileName as unknown as Buffer;
  return yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, raw, entry.extraFields, false);
}

function checkBomb(file: string, raw: string, entry: Entry, total: number): void {
  const ratio = entry.uncompressedSize / Math.max(1, entry.compressedSize);
  if (entry.uncompressedSize > RATIO_FLOOR && ratio > MAX_RATIO)
    throw badZip(
      file,
      `member ${JSON.stringify(raw)} inflates ${Math.round(ratio)} times (${entry.uncompressedSize} bytes): refused as a zip bomb`,
      undefined,
      raw,
    );
  if (total > MAX_ZIP_BYTES)
    throw badZip(file, `inflates to more than ${MAX_ZIP_BYTES} bytes: refused as a zip bomb`);
}

async function readEntry(
  file: string,
  zip: import('yauzl').ZipFile,
  entry: Entry,
): Promise<Buffer> {
  try {
    const stream = await zip.openReadStreamPromise(entry);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  } catch (err) {
    throw unreadableMember(file, entry, err);
  }
}

function unreadableMember(file: string, entry: Entry, err: unknown): PstoreError {
  const name = (entry.fileName as unknown as Buffer).toString();
  return badZip(
    file,
    `member ${JSON.stringify(name)} cannot be read (${(err as Error).message})`,
    err,
    name,
  );
}

/** The Unix mode in the high half of the external attributes (zip's "made by Unix"). */
function isExecutable(entry: Entry): boolean {
  const mode = entry.externalFileAttributes >>> 16;
  return (mode & 0o170000) === 0o100000 && (mode & 0o111) !== 0;
}

export function badZip(file: string, why: string, cause?: unknown, member?: string): PstoreError {
  return new PstoreError('EPSTORE_BAD_ARCHIVE', `${file} ${why}`, {
    subject: member ?? file,
    ...(cause === undefined ? {} : { cause }),
  });
}
