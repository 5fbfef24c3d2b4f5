// Bundles must reject *any* changed byte. Member contents are hashed and headers carry checksums,
// but a tar also holds bytes no parser checks: the zero padding that ends each member's last block,
// everything after the end-of-archive blocks, and the checksum field's own terminator (node-tar
// reads the number and ignores the rest). This pass-through walks the block structure (ustar
// sizes, octal or base-256) and fails on any such byte, on a checksum field not spelled exactly
// as POSIX allows, and on a stream that does not end in two end blocks and whole blocks.

import { Transform, type TransformCallback } from 'node:stream';

const BLOCK = 512;

function memberSize(header: Buffer): number {
  const field = header.subarray(124, 136);
  if ((field[0]! & 0x80) !== 0) {
    let n = 0;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i]!;
    return n;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  return text === '' ? 0 : parseInt(text, 8);
}

const PAX_KEYS = new Set(['path', 'mtime', 'size']);

/**
 * A pax record set as export writes it: `LEN key=value\n` records whose LEN is their exact byte
 * length, only the keys export uses, mtime 0. Returns the size record, which must match the next
 * header, or throws.
 */
function checkPax(data: Buffer, bad: () => Error): number | undefined {
  let i = 0;
  let size: number | undefined;
  while (i < data.length) {
    const space = data.indexOf(0x20, i);
    if (space === -1) throw bad();
    const lenText = data.subarray(i, space).toString('latin1');
    const len = Number(lenText);
    if (!/^[1-9][0-9]*$/.test(lenText) || i + len > data.length || data[i + len - 1] !== 0x0a)
      throw bad();
    const record = data.subarray(space + 1, i + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    const key = record.slice(0, eq);
    const value = record.slice(eq + 1);
    if (eq < 1 || !PAX_KEYS.has(key)) throw bad();
    if (key === 'mtime' && value !== '0') throw bad();
    if (key === 'size') {
      if (!/^(0|[1-9][0-9]*)$/.test(value)) throw bad();
      size = Number(value);
    }
    i += len;
  }
  return size;
}

/** The checksum field holds the header's sum as 6 octal digits then NUL+space or space+NUL. */
function checksumFieldExact(header: Buffer): boolean {
  let sum = 8 * 0x20;
  for (let k = 0; k < BLOCK; k++) if (k < 148 || k >= 156) sum += header[k]!;
  const digits = sum.toString(8).padStart(6, '0');
  const field = header.subarray(148, 156).toString('latin1');
  return field === `${digits}\0 ` || field === `${digits} \0`;
}

/** Passes a tar through, failing on any byte a tar parser ignores (padding, trailer, checksum spelling). */
export class IgnoredTarBytesCheck extends Transform {
  private pending: Buffer = Buffer.alloc(0);
  private offset = 0;
  /** bytes of member data left before the next padding/header */
  private dataLeft = 0;
  private padLeft = 0;
  private zeroBlocks = 0;
  /** the data of the pax header being read, and the size it announces for the next member */
  private pax: Buffer[] | undefined;
  private paxSize: number | undefined;

  constructor(
    private readonly onBadByte: (offset: number) => Error,
    /** the stream ended before its end-of-archive blocks and whole blocks (cut short, or empty) */
    private readonly onEarlyEnd: (offset: number) => Error = onBadByte,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    try {
      this.scan();
    } catch (err) {
      cb(err as Error);
      return;
    }
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    const complete =
      this.zeroBlocks >= 2 &&
      this.pending.length === 0 &&
      this.dataLeft === 0 &&
      this.padLeft === 0 &&
      this.offset % BLOCK === 0;
    cb(complete ? null : this.onEarlyEnd(this.offset + this.pending.length));
  }

  private scan(): void {
    let i = 0;
    const buf = this.pending;
    while (i < buf.length) {
      if (this.dataLeft > 0) {
        const n = Math.min(this.dataLeft, buf.length - i);
        this.pax?.push(buf.subarray(i, i + n));
        this.dataLeft -= n;
        i += n;
        if (this.dataLeft === 0 && this.pax) {
          const at = this.offset + i;
          this.paxSize = checkPax(Buffer.concat(this.pax), () => this.onBadByte(at));
          this.pax = undefined;
        }
        continue;
      }
      if (this.padLeft > 0 || this.zeroBlocks >= 2) {
        const n = this.zeroBlocks >= 2 ? buf.length - i : Math.min(this.padLeft, buf.length - i);
        for (let k = i; k < i + n; k++) if (buf[k] !== 0) throw this.onBadByte(this.offset + k);
        if (this.zeroBlocks < 2) this.padLeft -= n;
        i += n;
        continue;
      }
      if (buf.length - i < BLOCK) break; // wait for a whole header block
      const header = buf.subarray(i, i + BLOCK);
      if (header.every((b) => b === 0)) {
        this.zeroBlocks++;
      } else {
        if (this.zeroBlocks > 0) throw this.onBadByte(this.offset + i);
        if (!checksumFieldExact(header)) throw this.onBadByte(this.offset + i + 148);
        const size = memberSize(header);
        const isPax = header[156] === 0x78; // 'x': extended header for the next member
        if (!isPax && this.paxSize !== undefined && this.paxSize !== size)
          throw this.onBadByte(this.offset + i + 124);
        if (!isPax) this.paxSize = undefined;
        this.pax = isPax ? [] : undefined;
        this.dataLeft = size;
        this.padLeft = (BLOCK - (size % BLOCK)) % BLOCK;
      }
      i += BLOCK;
    }
    this.offset += i;
    this.pending = buf.subarray(i);
  }
}
