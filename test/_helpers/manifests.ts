// Manifest entries and plan inputs written as literals, for the unit tests of lib/'s pure parts.
// Integrity strings are computed here with node:crypto (never with pstore's code), so a test that
// compares ids or integrities checks lib/ against an independent computation.

import { createHash } from 'node:crypto';
import type { ManifestFile } from '../../lib/core/types.js';

export function integrityOf(content: string): string {
  return `sha512-${createHash('sha512').update(content).digest('base64')}`;
}

/** A regular file whose bytes are `content`. */
export function mfile(path: string, content = path, exec = false): ManifestFile {
  return {
    path,
    type: 'file',
    exec,
    size: Buffer.byteLength(content),
    integrity: integrityOf(content),
  };
}

export function mdir(path: string): ManifestFile {
  return { path, type: 'dir' };
}

export function mlink(path: string, target: string): ManifestFile {
  return { path, type: 'symlink', target };
}

/** Every proper ancestor directory of `paths` as dir entries, then the given entries (deduplicated). */
export function withParents(files: readonly ManifestFile[]): ManifestFile[] {
  const out = new Map<string, ManifestFile>();
  for (const f of files) {
    const parts = f.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!out.has(dir)) out.set(dir, mdir(dir));
    }
    out.set(f.path, f);
  }
  return [...out.values()];
}

/** A 40-hex entry id that differs per `seed` (plans only compare ids; they need not be real). */
export function fakeId(seed: string): string {
  return createHash('sha1').update(seed).digest('hex');
}
