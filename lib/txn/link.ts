// How a store object becomes a file in a prefix (SPEC.md §Link methods). `auto` tries a hard link,
// then a reflink, then a copy, on the first file of a transaction, and keeps what worked (pnpm's
// importer); a later file that the kept method cannot make (EMLINK: an object's link count is
// full) falls back the same way. Only a hard link publishes a complete file in one step, so
// callers write reflinks and copies under a temporary name first.
// Synchronous on purpose: activation places files in one loop with no per-file promise (the
// hard-link floor, SPEC.md §Activation cost); a big plan's second thread has its own linker.

import fs, { constants as fsc } from 'node:fs';
import { PstoreError, errnoCode } from '../core/errors.js';

/**
 * How a store object becomes a file in a prefix: `hardlink`, `reflink`, `copy`, or `auto` (try a
 * hard link, then a reflink, then a copy, and keep what worked).
 */
export type LinkMode = 'auto' | 'hardlink' | 'reflink' | 'copy';
export type LinkMethod = Exclude<LinkMode, 'auto'>;

/** What a linker settled on and made: one thread's answer to another (place-threads.ts). */
export interface LinkerState {
  /** the method in use; `auto` until the first file settles it */
  readonly method: LinkMode;
  /**
   * true while every file made is a hard link of its object (none copied or reflinked): a
   * generations tree built so is the store's inodes (SPEC.md §Check, *Kept entries*)
   */
  readonly onlyHardLinks: boolean;
}

export interface Linker extends LinkerState {
  /** the mode the transaction asked for */
  readonly mode: LinkMode;
  /** create `dest` (which must not exist) from the object at `src`; returns the method used */
  link(src: string, dest: string): LinkMethod;
  /** true when `dest` may be written directly (its appearance is atomic) */
  readonly atomicCreate: boolean;
  /** what another thread's linker of the transaction settled on (if this one has not) and made */
  adopt(other: LinkerState): void;
}

const FALLBACK = new Set(['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP', 'EINVAL', 'ENOSYS']);
const ORDER: readonly LinkMethod[] = ['hardlink', 'reflink', 'copy'];

/** An error after which another link method may still work. */
export function isLinkFallback(err: unknown): boolean {
  return FALLBACK.has(errnoCode(err) ?? '');
}

function byMethod(method: LinkMethod, src: string, dest: string): void {
  if (method === 'hardlink') return fs.linkSync(src, dest);
  fs.copyFileSync(
    src,
    dest,
    fsc.COPYFILE_EXCL | (method === 'reflink' ? fsc.COPYFILE_FICLONE_FORCE : fsc.COPYFILE_FICLONE),
  );
  // A copy keeps the object's content-derived mtime, for the same .pyc reason (objects.ts).
  const st = fs.statSync(src);
  fs.utimesSync(dest, st.atime, st.mtime);
}

/** Try `from` and the methods after it, in order, for this one file; returns the one that worked. */
function firstThatWorks(from: LinkMethod, src: string, dest: string): LinkMethod {
  for (const m of ORDER.slice(ORDER.indexOf(from))) {
    try {
      byMethod(m, src, dest);
      return m;
    } catch (err) {
      if (m === 'copy' || !isLinkFallback(err)) throw err;
    }
  }
  return 'copy'; // not reached: copy either works or throws
}

/** `settled`: the method another thread's linker of the same transaction settled on already. */
export function createLinker(mode: LinkMode, settled: LinkMode = mode): Linker {
  let method: LinkMode = settled;
  let onlyHardLinks = true;
  const made = (used: LinkMethod) => {
    if (used !== 'hardlink') onlyHardLinks = false;
    return used;
  };
  return {
    mode,
    get method() {
      return method;
    },
    get onlyHardLinks() {
      return onlyHardLinks;
    },
    get atomicCreate() {
      return method === 'hardlink';
    },
    adopt(other) {
      if (method === 'auto') method = other.method;
      if (!other.onlyHardLinks) onlyHardLinks = false;
    },
    link(src, dest) {
      if (mode !== 'auto') {
        forced(mode, src, dest);
        return made(mode);
      }
      // The first file settles the method; later ones start from it and fall back per file.
      const used = firstThatWorks(method === 'auto' ? 'hardlink' : method, src, dest);
      if (method === 'auto') method = used;
      return made(used);
    },
  };
}

const CROSS_FILESYSTEM =
  'store and prefix are on different filesystems; use --link auto or --link copy';

/**
 * `--link hardlink` and `reflink` cannot cross filesystems: refused before the journal, in the
 * user's words and naming the prefix, instead of EXDEV on an internal temp path halfway through.
 * `placeDir` is where files will be placed (it exists once the prefix is opened).
 */
export async function assertSameFilesystem(
  mode: LinkMode | undefined,
  storeRoot: string,
  placeDir: string,
  prefix: string,
): Promise<void> {
  if (mode !== 'hardlink' && mode !== 'reflink') return;
  const [store, place] = await Promise.all([
    fs.promises.stat(storeRoot),
    fs.promises.stat(placeDir),
  ]);
  if (store.dev !== place.dev)
    throw new PstoreError('EPSTORE_USAGE', `--link ${mode}: ${CROSS_FILESYSTEM}`, {
      subject: prefix,
      data: { store: storeRoot },
    });
}

function forced(method: LinkMethod, src: string, dest: string): void {
  try {
    byMethod(method, src, dest);
  } catch (err) {
    const code = errnoCode(err);
    // the same device seen through two mounts (a bind mount) still refuses links: EXDEV here
    if ((method === 'hardlink' || method === 'reflink') && code === 'EXDEV')
      throw new PstoreError('EPSTORE_USAGE', `--link ${method}: ${CROSS_FILESYSTEM}`, {
        subject: dest,
        cause: err,
      });
    if ((method === 'hardlink' || method === 'reflink') && isLinkFallback(err)) {
      throw new PstoreError(
        'EPSTORE_USAGE',
        `--link ${method} is not possible for ${dest} (${code}); try --link auto`,
        { subject: dest, cause: err },
      );
    }
    throw err;
  }
}
