// How a store object becomes a file in a prefix (SPEC.md §Link methods). `auto` tries a hard link,
// then a reflink, then a copy, on the first file of a transaction, and keeps what worked (pnpm's
// importer); a later file that the kept method cannot make (EMLINK: an object's link count is
// full) falls back the same way. Only a hard link publishes a complete file in one step, so
// callers write reflinks and copies under a temporary name first.

import { constants as fsc, promises as fsp } from 'node:fs';
import { PstoreError, errnoCode } from '../core/errors.js';

export type LinkMode = 'auto' | 'hardlink' | 'reflink' | 'copy';
export type LinkMethod = Exclude<LinkMode, 'auto'>;

export interface Linker {
  /** the method in use; `auto` until the first file settles it */
  readonly method: LinkMode;
  /** create `dest` (which must not exist) from the object at `src` */
  link(src: string, dest: string): Promise<void>;
  /** true when `dest` may be written directly (its appearance is atomic) */
  readonly atomicCreate: boolean;
}

const FALLBACK = new Set(['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP', 'EINVAL', 'ENOSYS']);

/** An error after which another link method may still work. */
export function isLinkFallback(err: unknown): boolean {
  return FALLBACK.has(errnoCode(err) ?? '');
}

async function byMethod(method: LinkMethod, src: string, dest: string): Promise<void> {
  if (method === 'hardlink') return fsp.link(src, dest);
  await fsp.copyFile(
    src,
    dest,
    fsc.COPYFILE_EXCL | (method === 'reflink' ? fsc.COPYFILE_FICLONE_FORCE : fsc.COPYFILE_FICLONE),
  );
  // A copy keeps the object's content-derived mtime, for the same .pyc reason (objects.ts).
  const st = await fsp.stat(src);
  await fsp.utimes(dest, st.atime, st.mtime);
}

export function createLinker(mode: LinkMode): Linker {
  let method: LinkMode = mode;
  let probing: Promise<void> | undefined;
  const linker: Linker = {
    get method() {
      return method;
    },
    get atomicCreate() {
      return method === 'hardlink';
    },
    async link(src, dest) {
      if (mode === 'auto' && method !== 'auto') return fallbackFrom(method, src, dest);
      if (method !== 'auto')
        return wrap(method, () => byMethod(method as LinkMethod, src, dest), dest);
      if (probing) {
        await probing.catch(() => {});
        return linker.link(src, dest);
      }
      let release!: () => void;
      probing = new Promise<void>((r) => (release = r));
      try {
        for (const m of ['hardlink', 'reflink', 'copy'] as const) {
          try {
            await byMethod(m, src, dest);
            method = m;
            return;
          } catch (err) {
            if (m === 'copy' || !FALLBACK.has(errnoCode(err) ?? '')) throw err;
          }
        }
      } finally {
        release();
        probing = undefined;
      }
    },
  };
  return linker;
}

const ORDER: readonly LinkMethod[] = ['hardlink', 'reflink', 'copy'];

/** In auto mode: the settled method first, then the ones after it, for this file only. */
async function fallbackFrom(method: LinkMethod, src: string, dest: string): Promise<void> {
  for (const m of ORDER.slice(ORDER.indexOf(method))) {
    try {
      return await byMethod(m, src, dest);
    } catch (err) {
      if (m === 'copy' || !FALLBACK.has(errnoCode(err) ?? '')) throw err;
    }
  }
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
  const [store, place] = await Promise.all([fsp.stat(storeRoot), fsp.stat(placeDir)]);
  if (store.dev !== place.dev)
    throw new PstoreError('EPSTORE_USAGE', `--link ${mode}: ${CROSS_FILESYSTEM}`, {
      subject: prefix,
      data: { store: storeRoot },
    });
}

async function wrap(method: LinkMode, fn: () => Promise<void>, dest: string): Promise<void> {
  try {
    await fn();
  } catch (err) {
    const code = errnoCode(err);
    // the same device seen through two mounts (a bind mount) still refuses links: EXDEV here
    if ((method === 'hardlink' || method === 'reflink') && code === 'EXDEV')
      throw new PstoreError('EPSTORE_USAGE', `--link ${method}: ${CROSS_FILESYSTEM}`, {
        subject: dest,
        cause: err,
      });
    if ((method === 'hardlink' || method === 'reflink') && FALLBACK.has(code ?? '')) {
      throw new PstoreError(
        'EPSTORE_USAGE',
        `--link ${method} is not possible for ${dest} (${code}); try --link auto`,
        { subject: dest, cause: err },
      );
    }
    throw err;
  }
}
