// `--overwrite GLOB` (SPEC.md §Overwrite, as pacman's): a transaction may take over an unowned file
// or symlink at a path it places when the path matches a glob; an owned path and a directory still
// refuse. Before the journal is written, each taken-over file is saved as a store object (a symlink
// by its target) so that a revert or a later `rollback` can put it back exactly (restore-saved.ts).

import { constants, promises as fsp } from 'node:fs';
import path from 'node:path';
import picomatch from 'picomatch';
import { PstoreError } from '../core/errors.js';
import { syncFilesystem } from '../fs/atomic.js';
import type { SavedPath } from '../prefix/overwritten.js';
import type { StoreLayout } from '../store/layout.js';
import { checkPrefix } from './check.js';
import type { ConflictSink, Plan } from './plan.js';

/** Paths a check let through because a glob matched, in the order it found them. */
export interface TakeOver {
  accept: (rel: string) => boolean;
  taken: string[];
}

/**
 * A matcher for prefix-relative paths. As pacman: `*` matches across `/` (fnmatch without
 * FNM_PATHNAME), a leading `/` is the prefix root, `!GLOB` excludes, and the last glob that
 * matches a path decides.
 */
export function overwriteMatcher(globs: readonly string[]): (rel: string) => boolean {
  const rules = globs.map((glob) => {
    const negated = glob.startsWith('!');
    const pattern = (negated ? glob.slice(1) : glob).replace(/^\/+/, '');
    if (pattern === '')
      throw new PstoreError(
        'EPSTORE_USAGE',
        `--overwrite ${JSON.stringify(glob)} matches nothing`,
        {
          subject: glob,
        },
      );
    return { negated, match: picomatch(pattern, { bash: true, dot: true }) };
  });
  return (rel) => {
    let taken = false;
    for (const r of rules) if (r.match(rel)) taken = !r.negated;
    return taken;
  };
}

/** What a check may take over for `globs`: only plain files the plan places, never marker units. */
export function takeOverFor(
  globs: readonly string[] | undefined,
  plan: Plan,
): TakeOver | undefined {
  if (!globs?.length) return undefined;
  const matches = overwriteMatcher(globs);
  const placed = new Set(plan.place.map((p) => p.file.path));
  const taken: string[] = [];
  const accept = (rel: string) => {
    if (!placed.has(rel) || !matches(rel)) return false;
    taken.push(rel);
    return true;
  };
  return { accept, taken };
}

/** checkPrefix, letting `globs` take over unowned files; returns what was taken over. */
export async function checkTakingOver(
  root: string,
  plan: Plan,
  ownedBefore: ReadonlySet<string>,
  globs: readonly string[] | undefined,
  onConflict?: ConflictSink,
): Promise<string[]> {
  const takeOver = takeOverFor(globs, plan);
  await checkPrefix(root, plan, ownedBefore, onConflict, takeOver?.accept);
  return [...(takeOver?.taken ?? [])].sort();
}

/** Save each taken-over path into the store (flushed once), before the journal names them. */
export async function saveTakenOver(
  store: StoreLayout,
  root: string,
  taken: readonly string[],
): Promise<SavedPath[]> {
  const saved: SavedPath[] = [];
  for (const rel of taken) {
    const one = await saveOne(store, path.join(root, rel), rel);
    if (one) saved.push(one);
  }
  if (saved.some((s) => s.type === 'file')) await syncFilesystem(store.objects);
  return saved;
}

async function saveOne(
  store: StoreLayout,
  abs: string,
  rel: string,
): Promise<SavedPath | undefined> {
  const st = await fsp.lstat(abs).catch(() => undefined);
  if (st?.isSymbolicLink()) return { path: rel, type: 'symlink', target: await fsp.readlink(abs) };
  if (!st?.isFile()) return undefined; // gone since the check: nothing to keep
  const mode = st.mode & 0o7777;
  const exec = (mode & 0o111) !== 0;
  // Loaded only to save a file taken over (--overwrite): not compiled by every activation.
  const { writeObjectFromStream } = await import('../store/objects.js');
  // O_NOFOLLOW: a symlink swapped in since the lstat is not read through
  const handle = await fsp.open(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
  const obj = await writeObjectFromStream(store, handle.createReadStream(), exec).finally(() =>
    handle.close().catch(() => {}),
  );
  return { path: rel, type: 'file', mode, exec, integrity: obj.integrity };
}
