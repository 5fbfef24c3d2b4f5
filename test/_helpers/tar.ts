// A raw ustar writer with exact control over every header field, so tests can build archives no
// well-behaved tool would: `../` names, absolute names, devices, duplicate members, bad checksums,
// archives cut anywhere. Nothing here sanitizes anything.

import { gzipSync } from 'node:zlib';

export const BLOCK = 512;

export type MemberType = 'file' | 'dir' | 'symlink' | 'link' | 'chr' | 'blk' | 'fifo';

const TYPEFLAG: Record<MemberType, string> = {
  file: '0',
  link: '1',
  symlink: '2',
  chr: '3',
  blk: '4',
  dir: '5',
  fifo: '6',
};

export interface Member {
  path: string;
  type?: MemberType;
  /** file contents (type file only) */
  data?: string | Uint8Array;
  mode?: number;
  /** symlink target or hard-link target */
  linkpath?: string;
  devmajor?: number;
  devminor?: number;
  /**
   * The member name as exact bytes (any length, not necessarily UTF-8), written in a GNU long-name
   * record ('L') before the header, as GNU tar does for names that do not fit; `path` then only
   * fills the header's own name field.
   */
  rawPath?: Uint8Array;
}

function octal(value: number, width: number): string {
  // width-1 octal digits then NUL, like GNU tar
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

function put(buf: Buffer, offset: number, width: number, text: string | Buffer): void {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  if (bytes.length > width)
    throw new Error(
      `tar field too long (${bytes.length} > ${width}): ${JSON.stringify(text.toString())}`,
    );
  bytes.copy(buf, offset);
}

/** Split a long name into ustar prefix/name, or fail (these tests never need PAX). */
function splitName(name: string): { prefix: string; name: string } {
  if (Buffer.byteLength(name) <= 100) return { prefix: '', name };
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== '/') continue;
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100)
      return { prefix, name: rest };
  }
  throw new Error(`name too long for ustar: ${name}`);
}

export function header(m: Member, size: number): Buffer {
  const type = m.type ?? 'file';
  const h = Buffer.alloc(BLOCK, 0);
  const { prefix, name } = splitName(m.path);
  put(h, 0, 100, name);
  put(h, 100, 8, octal(m.mode ?? (type === 'dir' ? 0o755 : type === 'symlink' ? 0o777 : 0o644), 8));
  put(h, 108, 8, octal(0, 8));
  put(h, 116, 8, octal(0, 8));
  put(h, 124, 12, octal(size, 12));
  put(h, 136, 12, octal(1_700_000_000, 12));
  put(h, 148, 8, '        '); // checksum is computed with this field as spaces
  put(h, 156, 1, TYPEFLAG[type]);
  put(h, 157, 100, m.linkpath ?? '');
  put(h, 257, 6, 'ustar\0');
  put(h, 263, 2, '00');
  put(h, 265, 32, 'root');
  put(h, 297, 32, 'root');
  put(h, 329, 8, octal(m.devmajor ?? 0, 8));
  put(h, 337, 8, octal(m.devminor ?? 0, 8));
  put(h, 345, 155, prefix);
  writeChecksum(h);
  return h;
}

export function writeChecksum(h: Buffer): void {
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += h[i]!;
  put(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
}

function pad(n: number): number {
  return Math.ceil(n / BLOCK) * BLOCK;
}

export interface TarLayout {
  bytes: Buffer;
  /** byte offset of each member's header, in order */
  headers: number[];
  /** byte offset where the end-of-archive marker starts (= bytes.length when omitted) */
  end: number;
}

/** Build an archive; `endMarker: false` leaves off the two zero blocks (a tar cut at a block boundary). */
export function buildTarLayout(
  members: readonly Member[],
  opts: { endMarker?: boolean } = {},
): TarLayout {
  const parts: Buffer[] = [];
  const headers: number[] = [];
  let offset = 0;
  for (const m of members) {
    if (m.rawPath) {
      const longName = gnuLongName(m.rawPath);
      parts.push(longName);
      offset += longName.length;
    }
    const data =
      m.type === undefined || m.type === 'file' ? Buffer.from(m.data ?? '') : Buffer.alloc(0);
    headers.push(offset);
    parts.push(header(m, data.length));
    offset += BLOCK;
    if (data.length) {
      const body = Buffer.alloc(pad(data.length), 0);
      data.copy(body);
      parts.push(body);
      offset += body.length;
    }
  }
  const end = offset;
  if (opts.endMarker ?? true) parts.push(Buffer.alloc(2 * BLOCK, 0));
  return { bytes: Buffer.concat(parts), headers, end };
}

/** A GNU long-name record: a `././@LongLink` header of type 'L' whose data is the name and a NUL. */
function gnuLongName(name: Uint8Array): Buffer {
  const data = Buffer.concat([Buffer.from(name), Buffer.alloc(1)]);
  const h = header({ path: '././@LongLink', type: 'file' }, data.length);
  h[156] = 'L'.charCodeAt(0);
  writeChecksum(h);
  const body = Buffer.alloc(pad(data.length), 0);
  data.copy(body);
  return Buffer.concat([h, body]);
}

export function buildTar(members: readonly Member[], opts: { endMarker?: boolean } = {}): Buffer {
  return buildTarLayout(members, opts).bytes;
}

export function gzip(data: Uint8Array): Buffer {
  return gzipSync(data);
}

/** Describe a fixture tree as tar members (in the given order), e.g. to rebuild a tree with variations. */
export function membersOf(
  files: ReadonlyArray<
    | { path: string; type: 'file'; data: Uint8Array; exec: boolean }
    | { path: string; type: 'dir' }
    | { path: string; type: 'symlink'; target: string }
  >,
  opts: { dotSlash?: boolean; dirs?: boolean } = {},
): Member[] {
  const out: Member[] = [];
  const p = (s: string) => (opts.dotSlash ? `./${s}` : s);
  for (const f of files) {
    if (f.type === 'dir') {
      if (opts.dirs ?? true) out.push({ path: `${p(f.path)}/`, type: 'dir' });
    } else if (f.type === 'symlink') {
      out.push({ path: p(f.path), type: 'symlink', linkpath: f.target });
    } else {
      out.push({ path: p(f.path), type: 'file', data: f.data, mode: f.exec ? 0o755 : 0o644 });
    }
  }
  return out;
}
