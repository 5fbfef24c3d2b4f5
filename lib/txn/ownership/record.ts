// The ownership index's stored form (SPEC.md §Ownership index, formatVersion 3): one record per
// directory holding the entries of the paths directly in it, so a 100k-file prefix is some 12k keys
// instead of 100k (a LevelDB key costs a native call, a memtable node and its repeated directory
// prefix). Fields are joined by NUL, which no path, name, target or integrity can hold, so no JSON
// is built or parsed per entry.

import type { ManifestFile } from '../../core/types.js';
import type { OwnerEntry } from './entry.js';

/** The directory a path's entry is filed under, and its name there ('' for a top-level path). */
export function splitPath(rel: string): [dir: string, name: string] {
  const at = rel.lastIndexOf('/');
  return at < 0 ? ['', rel] : [rel.slice(0, at), rel.slice(at + 1)];
}

export const joinPath = (dir: string, name: string) => (dir === '' ? name : `${dir}/${name}`);

/**
 * A directory's record: per child `NAME \0 TYPE \0 UNIT \0 WHAT… \0 COUNT \0 OWNER…`; TYPE `f`
 * (WHAT: integrity, `x` or empty for the exec bit, decimal size), `d` (no WHAT) or `l` (WHAT: the
 * target); UNIT empty for a plain path; COUNT owners follow. Keys are the children's full paths;
 * a child whose entry is undefined (gone) is left out; '' when none is left.
 */
export function encodeRecord(
  children: Iterable<readonly [string, OwnerEntry | undefined]>,
): string {
  // One string per child, joined once (a flat string, as LevelDB copies it): no array of fields
  // nor tuple per child (a 100k-file commit encodes every entry once).
  const parts: string[] = [];
  for (const [rel, e] of children)
    if (e !== undefined) parts.push(encodeChild(rel.slice(rel.lastIndexOf('/') + 1), e));
  return parts.join('\0');
}

function encodeChild(name: string, e: OwnerEntry): string {
  const f = e.file;
  const head = `${name}\0${TYPE_CODE[f.type]}\0${e.unit ?? ''}\0`;
  const what =
    f.type === 'file'
      ? `${f.integrity}\0${f.exec ? 'x' : ''}\0${f.size}\0`
      : f.type === 'symlink'
        ? `${f.target}\0`
        : '';
  const owners = e.owners.length === 1 ? e.owners[0]! : e.owners.join('\0');
  return `${head}${what}${e.owners.length}\0${owners}`;
}

const TYPE_CODE = { file: 'f', symlink: 'l', dir: 'd' } as const;

/** A stored record, checked: anything else is a damaged index (undefined), rebuilt by the caller. */
export function parseRecord(value: unknown, dir: string): Map<string, OwnerEntry> | undefined {
  if (typeof value !== 'string') return undefined;
  const out = new Map<string, OwnerEntry>();
  const f = value.split('\0');
  let at = 0;
  while (at < f.length) {
    const [name, type, unit] = [f[at], f[at + 1], f[at + 2]];
    if (!name || unit === undefined) return undefined;
    const rel = joinPath(dir, name);
    const what = WHAT_FIELDS[type as keyof typeof WHAT_FIELDS];
    const file = what === undefined ? undefined : fileOf(type, f.slice(at + 3, at + 3 + what), rel);
    const countAt = at + 3 + (what ?? 0);
    const count = Number(f[countAt]);
    const owners = f.slice(countAt + 1, countAt + 1 + count);
    if (!file || !/^[1-9]\d*$/.test(f[countAt] ?? '') || owners.length !== count) return undefined;
    if (owners.some((o) => o === '')) return undefined;
    out.set(rel, unit === '' ? { file, owners } : { file, owners, unit });
    at = countAt + 1 + count;
  }
  return out;
}

const WHAT_FIELDS = { f: 3, l: 1, d: 0 } as const;

function fileOf(type: string | undefined, what: string[], path: string): ManifestFile | undefined {
  if (type === 'd') return { path, type: 'dir' };
  if (type === 'l' && what[0]) return { path, type: 'symlink', target: what[0] };
  if (type !== 'f') return undefined;
  const [integrity, exec, size] = what;
  if (!integrity || (exec !== 'x' && exec !== '') || !size || !/^\d+$/.test(size)) return undefined;
  return { path, type: 'file', integrity, exec: exec === 'x', size: Number(size) };
}
