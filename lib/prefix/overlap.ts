// Stores and prefixes never overlap (SPEC.md §Prefix layout): a prefix that is the store or lies
// inside it would let a package plant objects (or a deactivation delete them, or gc wipe the
// prefix); a prefix inside pstore's state of another prefix (`P/.pstore/…`, a generations
// prefix's `.pstore-BASE/trees/N/…`) is lost when that state changes. A prefix that *contains*
// the store (`--prefix ~/.local`, store `~/.local/share/pstore`) stays allowed: the transaction
// layer then keeps every package path out of the store's subtree (txn/store-guard.ts).
// Pure path relations on canonical paths, plus the canonicalization they need.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { PstoreError } from '../core/errors.js';
import { RESERVED_PREFIX } from '../core/names.js';
import type { PrefixPaths } from './layout.js';

/** `child` relative to `parent` when it is `parent` itself ('') or lies inside it; else undefined. */
export function relativeWithin(child: string, parent: string): string | undefined {
  const rel = path.relative(parent, child);
  if (rel === '') return '';
  if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) return undefined;
  return rel.split(path.sep).join('/');
}

/**
 * The real path of `p` even where it does not exist yet: the deepest existing ancestor is
 * resolved (symlinks and all) and the rest appended, so `link/new/dir` with `link -> store`
 * is seen inside the store before anything is created.
 */
export async function realpathDeepest(p: string): Promise<string> {
  const abs = path.resolve(p);
  const rest: string[] = [];
  let at = abs;
  for (;;) {
    try {
      return path.join(await fsp.realpath(at), ...rest.reverse());
    } catch {
      const up = path.dirname(at);
      if (up === at) return abs;
      rest.push(path.basename(at));
      at = up;
    }
  }
}

/** The prefix path canonical; a generations prefix's own symlink is not followed (it is the prefix). */
async function livePath(p: PrefixPaths): Promise<string> {
  if (p.layout === 'inplace') return realpathDeepest(p.dir);
  return path.join(await realpathDeepest(path.dirname(p.dir)), path.basename(p.dir));
}

function unsafePlacement(prefix: string, other: string, why: string): PstoreError {
  return new PstoreError('EPSTORE_UNSAFE_PATH', `the prefix ${prefix} ${why} ${other}`, {
    subject: prefix,
    data: { prefix, other },
  });
}

/**
 * Refuse (EPSTORE_UNSAFE_PATH naming both paths) a prefix that is the store, lies inside it, lies
 * inside pstore's state of any prefix, or holds the store inside its own state (generation trees).
 */
export async function refuseOverlap(p: PrefixPaths, storeRoot: string): Promise<void> {
  const [prefix, store, meta] = await Promise.all([
    livePath(p),
    realpathDeepest(storeRoot),
    realpathDeepest(p.meta),
  ]);
  const inStore = relativeWithin(prefix, store);
  if (inStore === '') throw unsafePlacement(prefix, store, 'is the store');
  if (inStore !== undefined) throw unsafePlacement(prefix, store, 'lies inside the store');
  const state = prefix.split(path.sep).findIndex((part) => part.startsWith(RESERVED_PREFIX));
  if (state !== -1) {
    const stateDir = prefix
      .split(path.sep)
      .slice(0, state + 1)
      .join(path.sep);
    throw unsafePlacement(prefix, stateDir, "lies inside pstore's state directory");
  }
  if (relativeWithin(store, meta) !== undefined)
    throw unsafePlacement(prefix, store, 'would keep in its own state directory the store');
}

/** Where the store lies inside the prefix, prefix-relative ('a/b'), or undefined when it does not. */
export async function storeInsidePrefix(
  p: PrefixPaths,
  storeRoot: string,
): Promise<string | undefined> {
  const [prefix, store] = await Promise.all([livePath(p), realpathDeepest(storeRoot)]);
  return relativeWithin(store, prefix);
}
