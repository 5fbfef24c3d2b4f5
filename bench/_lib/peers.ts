// The peer commands pstore's ingest is measured against, and the untimed chores around them
// (flushing dirty pages between runs, warming the page cache, removing outputs).

import { promises as fsp } from 'node:fs';
import { run, sh, type RunResult } from './exec.js';

/** `tar -xf TAR -C DEST` into a fresh directory. */
export async function tarExtract(tar: string, dest: string): Promise<RunResult> {
  await fsp.mkdir(dest, { recursive: true });
  return run('tar', ['-xf', tar, '-C', dest]);
}

/** sha512 of every regular file's bytes, one process reading them in turn (as pstore hashes them). */
export function sha512All(dir: string): Promise<RunResult> {
  return sh('find "$1" -type f -print0 | xargs -0 sha512sum > /dev/null', [dir]);
}

/** `cp -a SRC DEST` (DEST must not exist). */
export function copyTree(src: string, dest: string): Promise<RunResult> {
  return run('cp', ['-a', src, dest]);
}

/** Flush the filesystem holding `dir` (what `pstore add` does once before writing its manifest). */
export async function syncFs(dir: string): Promise<RunResult> {
  try {
    return await run('sync', ['-f', dir]);
  } catch {
    return run('sync', []);
  }
}

/**
 * Flush every dirty page before a timed run, so no run pays for writing back the previous run's
 * output (pstore's own syncfs would otherwise flush what cp -a or tar -x left dirty).
 */
export async function settle(): Promise<void> {
  await run('sync', []);
}

/** Read every file of the tree, and the tar, once: timed runs then start from a warm page cache. */
export async function warmRead(dir: string, tar: string): Promise<void> {
  await sh('find "$1" -type f -print0 | xargs -0 cat > /dev/null; cat "$2" > /dev/null', [
    dir,
    tar,
  ]);
}

export async function removeTree(dir: string): Promise<void> {
  try {
    await fsp.rm(dir, { recursive: true, force: true });
  } catch {
    // Objects are read-only; a directory made read-only as well needs chmod first.
    await sh('chmod -R u+w "$1" && rm -rf "$1"', [dir]);
  }
}
