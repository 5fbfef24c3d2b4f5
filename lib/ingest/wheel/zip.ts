// Reading a wheel's zip with yauzl (SPEC.md §Wheels): the central directory is read first and
// checked against the zip-bomb limits before any member is inflated; yauzl then refuses a member
// whose inflated bytes differ from its declared size, so the declared sizes the limits check are
// the sizes read. Names are decoded here (not by yauzl) so that every unsafe name is refused by
// pstore's own path policy, with its own code, naming the member.

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

type Yauzl = typeof import('yauzl');
type Entry = import('yauzl').Entry;

export async function readZip(file: string): Promise<ZipMember[]> {
  const yauzl: Yauzl = (await import('yauzl')).default;
  let zip;
  try {
    zip = await yauzl.openPromise(file, {
      lazyEntries: true,
      autoClose: false,
      decodeStrings: false,
      validateEntrySizes: true,
    });
  } catch (err) {
    throw badZip(file, `is not a readable zip archive (${(err as Error).message})`, err);
  }
  try {
    const entries = await listEntries(file, zip);
    const members: ZipMember[] = [];
    for (const { entry, path } of entries) {
      if (entry.fileName.toString().endsWith('/')) continue; // directories: installers make parents
      members.push({ path, data: await readEntry(file, zip, entry), exec: isExecutable(entry) });
    }
    return members;
  } finally {
    zip.close();
  }
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
    for await (const entry of zip.eachEntry()) {
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
    const name = (entry.fileName as unknown as Buffer).toString();
    throw badZip(
      file,
      `member ${JSON.stringify(name)} cannot be read (${(err as Error).message})`,
      err,
      name,
    );
  }
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
