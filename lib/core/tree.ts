// The tree being ingested, member by member, with the rules every source obeys (SPEC.md §Ingest):
// no member under a symlink of the same tree, no member under a file, and a path that appears twice
// must mean the same thing both times. Parents that a tar omits become directories.

import { PstoreError } from './errors.js';
import { MAX_PATH_BYTES, REPLACEMENT_CHAR, ancestors, unsafe } from './safe-path.js';
import type { ManifestFile } from './types.js';
import { RESERVED_PREFIX } from './names.js';

export class TreeCollector {
  private readonly byPath = new Map<string, ManifestFile>();
  /** object key of each regular file, for hard links inside a tar */
  private readonly keys = new Map<string, string>();

  constructor(private readonly sourceName: string) {}

  get size(): number {
    return this.byPath.size;
  }

  get(path: string): ManifestFile | undefined {
    return this.byPath.get(path);
  }

  objectKeyOf(path: string): string | undefined {
    return this.keys.get(path);
  }

  /** Check that `path` may be added before any bytes of it are stored. */
  checkPlace(path: string): void {
    if (this.underKnownDir(path)) return;
    for (const dir of ancestors(path)) {
      const existing = this.byPath.get(dir);
      if (existing?.type === 'symlink')
        throw unsafe(path, `lies under the symlink ${dir} of ${this.sourceName}`);
      if (existing?.type === 'file')
        throw this.disagree(path, `lies under the regular file ${dir}`);
    }
  }

  /**
   * Whether `path`'s parent is a directory of the tree already: then every ancestor is one too (a
   * directory is added only after its own ancestors, and no member changes type), so the walk up
   * the ancestors, a tree's per-member cost in its size, can be skipped.
   */
  private underKnownDir(path: string): boolean {
    const slash = path.lastIndexOf('/');
    return slash === -1 || this.byPath.get(path.slice(0, slash))?.type === 'dir';
  }

  add(file: ManifestFile, key?: string): void {
    if (file.path === '')
      throw unsafe('.', `names the root of ${this.sourceName} but is not a directory`);
    if (file.path.split('/').some((part) => part.startsWith(RESERVED_PREFIX))) {
      throw unsafe(
        file.path,
        `uses a name beginning with ${RESERVED_PREFIX}, which pstore reserves for its own state in prefixes`,
      );
    }
    if (file.type === 'symlink' && !placeableTarget(file.target)) {
      throw this.disagree(
        file.path,
        'is a symlink with an empty or invalid target (NUL, not valid UTF-8, or longer than a Linux path)',
      );
    }
    this.checkPlace(file.path);
    const prev = this.byPath.get(file.path);
    if (prev !== undefined) {
      if (!sameMember(prev, file))
        throw this.disagree(
          file.path,
          `appears twice as different things (${prev.type}, ${file.type})`,
        );
      return;
    }
    if (!this.underKnownDir(file.path)) {
      for (const dir of ancestors(file.path)) {
        if (!this.byPath.has(dir)) this.byPath.set(dir, { path: dir, type: 'dir' });
      }
    }
    this.byPath.set(file.path, file);
    if (key !== undefined) this.keys.set(file.path, key);
  }

  files(): ManifestFile[] {
    return [...this.byPath.values()];
  }

  private disagree(path: string, why: string): PstoreError {
    return new PstoreError(
      'EPSTORE_BAD_ARCHIVE',
      `${this.sourceName}: member ${JSON.stringify(path)} ${why}`,
      { subject: path },
    );
  }
}

/** A target symlink() accepts and that survived decoding unchanged (see safe-path.ts on U+FFFD). */
function placeableTarget(target: string): boolean {
  return (
    target !== '' &&
    !target.includes('\0') &&
    !target.includes(REPLACEMENT_CHAR) &&
    Buffer.byteLength(target) <= MAX_PATH_BYTES
  );
}

function sameMember(a: ManifestFile, b: ManifestFile): boolean {
  if (a.type === 'dir' || b.type === 'dir') return a.type === b.type;
  if (a.type === 'symlink' && b.type === 'symlink') return a.target === b.target;
  if (a.type === 'file' && b.type === 'file')
    return a.integrity === b.integrity && a.exec === b.exec;
  return false;
}
