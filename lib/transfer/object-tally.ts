// What an import knows of each object it meets, one small record per object: whether its member
// arrived, hashed to its name and was staged, and whether a manifest names it and the store holds
// it. A bundle of 100k objects kept five sets of 130-character keys (member names, received,
// staged, named, present); one map keyed by the digest's 64 bytes as a Latin-1 string, with bit
// flags, holds the same at a fraction of the size (issue 9).

import { parseObjectKey } from '../core/object-key.js';

/** The member arrived (a second one is a damaged bundle). */
export const SEEN = 1;
/** The member hashed to its name. */
export const RECEIVED = 2;
/** Written to the staging directory: the store lacks the object or holds it damaged. */
export const STAGED = 4;
/** A manifest of the bundle names the object. */
export const NAMED = 8;
/** Received intact over a stored copy, or in the store already. */
export const PRESENT = 16;

// Decoded into one reused buffer: this runs once per object and once per manifest file.
const DIGEST = Buffer.allocUnsafeSlow(96);

function compact(bytes: number, exec: boolean): string {
  return DIGEST.toString('latin1', 0, bytes) + (exec ? 'x' : '-');
}

export class ObjectTally {
  private readonly flags = new Map<string, number>();

  /** The compact key of an object key (`HEX` or `HEX-x`). */
  static ofKey(key: string): string {
    const { hex, exec } = parseObjectKey(key);
    return compact(DIGEST.write(hex, 'hex'), exec);
  }

  /** The compact key of a manifest file's object. */
  static ofFile(f: { integrity: string; exec: boolean }): string {
    const base64 = f.integrity.slice(f.integrity.indexOf('-') + 1);
    if (base64.length > (DIGEST.length / 3) * 4)
      return Buffer.from(base64, 'base64').toString('latin1') + (f.exec ? 'x' : '-');
    return compact(DIGEST.write(base64, 'base64'), f.exec);
  }

  /** The object key (`HEX` or `HEX-x`) a compact key stands for. */
  static keyOf(compactKey: string): string {
    const hex = Buffer.from(compactKey.slice(0, -1), 'latin1').toString('hex');
    return compactKey.endsWith('x') ? `${hex}-x` : hex;
  }

  has(key: string, flag: number): boolean {
    return ((this.flags.get(key) ?? 0) & flag) !== 0;
  }

  mark(key: string, flag: number): void {
    this.flags.set(key, (this.flags.get(key) ?? 0) | flag);
  }

  /** The compact keys with every bit of `all` set and none of `none`, in the order first met. */
  *with(all: number, none = 0): Generator<string> {
    for (const [key, f] of this.flags) if ((f & all) === all && (f & none) === 0) yield key;
  }

  count(all: number): number {
    let n = 0;
    for (const f of this.flags.values()) if ((f & all) === all) n++;
    return n;
  }
}
