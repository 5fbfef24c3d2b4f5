// What an input is, by its first bytes (SPEC.md §Input formats), so that `add` says what a file
// looks like instead of a tar parser's complaint about it: a wheel (zip), a Debian package (ar),
// or a compression node-tar cannot read here, each with the command that gets a tar out of it.

import { promises as fsp } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import zlib from 'node:zlib';
import { PstoreError, isDenied } from '../core/errors.js';

export type InputFormat = 'zip' | 'deb' | 'ar' | 'xz' | 'zstd' | 'bzip2' | 'other';

/** enough for every magic below */
export const SNIFF_BYTES = 32;

const MAGIC: Array<[InputFormat, Buffer]> = [
  ['deb', Buffer.from('!<arch>\ndebian-binary')],
  ['ar', Buffer.from('!<arch>\n')],
  ['zip', Buffer.from('PK\x03\x04', 'latin1')],
  ['zip', Buffer.from('PK\x05\x06', 'latin1')], // an empty zip
  ['xz', Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])],
  ['zstd', Buffer.from([0x28, 0xb5, 0x2f, 0xfd])],
  ['bzip2', Buffer.from('BZh')],
];

export function formatOf(head: Buffer): InputFormat {
  for (const [format, magic] of MAGIC)
    if (head.subarray(0, magic.length).equals(magic)) return format;
  return 'other';
}

/** The format of a regular file, or undefined when it cannot be opened and read as one. */
export async function sniffFile(file: string): Promise<InputFormat | undefined> {
  let handle;
  try {
    handle = await fsp.open(file, 'r');
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(SNIFF_BYTES), 0, SNIFF_BYTES, 0);
    return formatOf(buffer.subarray(0, bytesRead));
  } catch (err) {
    // a file this user may not read is EPSTORE_PERMISSION naming it (the boundary maps it), not a
    // format to guess at; a directory, a missing file: the ordinary source handling reports it
    if (isDenied(err)) throw err;
    return undefined;
  } finally {
    await handle?.close();
  }
}

/** The first bytes of a stream, and a stream that still yields every byte. */
export function peekStream(
  src: Readable,
  n = SNIFF_BYTES,
): Promise<{ head: Buffer; stream: Readable }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (ended: boolean): void => {
      src.off('data', onData).off('end', onEnd).off('error', reject);
      src.pause();
      const head = Buffer.concat(chunks);
      const out = new PassThrough();
      out.write(head);
      if (ended) out.end();
      else {
        src.on('error', (err) => out.destroy(err));
        out.on('close', () => src.destroy()); // the consumer gave up: stop reading the source
        src.pipe(out);
      }
      resolve({ head, stream: out });
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= n) finish(false);
    };
    const onEnd = (): void => finish(true);
    src.on('data', onData).once('end', onEnd).once('error', reject);
  });
}

const NODE_READS_ZSTD =
  typeof (zlib as { createZstdDecompress?: unknown }).createZstdDecompress === 'function';

/**
 * The refusal for a format `add` cannot take from `label` (a file path, or `stdin` when
 * `fromStream`), or undefined when the tar reader should have it.
 */
export function refusal(
  format: InputFormat,
  label: string,
  fromStream: boolean,
): PstoreError | undefined {
  const file = fromStream ? 'FILE' : label;
  const pipe = (tool: string): string =>
    `${tool} ${shellWord(file)} | pstore add - --name N --version V`;
  const say = (what: string, hint: string): PstoreError =>
    new PstoreError('EPSTORE_BAD_ARCHIVE', `${label} is ${what}, not a tar archive`, {
      subject: label,
      hint,
    });
  switch (format) {
    case 'xz':
      return say('xz-compressed', `decompress it: ${pipe('xz -dc')}`);
    case 'bzip2':
      return say('bzip2-compressed', `decompress it: ${pipe('bzip2 -dc')}`);
    case 'zstd':
      return NODE_READS_ZSTD
        ? undefined
        : say('zstd-compressed', `decompress it: ${pipe('zstd -dc')}`);
    case 'ar':
      return say(
        'an ar archive (a static library?), not a Debian package',
        'add the files it holds as a directory',
      );
    case 'zip':
    case 'deb':
      return fromStream
        ? say(
            format === 'zip' ? 'a zip archive (a wheel?)' : 'a Debian package',
            'give its file name: pstore add FILE',
          )
        : undefined;
    default:
      return undefined;
  }
}

function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'"'"'`)}'`;
}
