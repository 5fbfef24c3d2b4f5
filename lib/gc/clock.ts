// gc's clock (SPEC.md §GC, clocks). The grace period must hold when the clock of the host that
// added an entry disagrees with gc's (a host whose clock is behind, libfaketime, an NFS client):
// times recorded by processes can be anything, but a ctime is set by the kernel of the machine
// that owns the filesystem and no process can set it. So "now" is read from the filesystem, an
// entry's last add is the newest of every time it has, and a time in the future counts as now.

import { promises as fsp } from 'node:fs';
import type { ManifestFileInfo } from '../store/manifests.js';

/**
 * The filesystem's idea of now: touch a file gc holds anyway (the store lock) and read the ctime
 * the kernel gave it.
 */
export async function filesystemNow(file: string): Promise<number> {
  const t = new Date();
  await fsp.utimes(file, t, t);
  return (await fsp.stat(file)).ctimeMs;
}

/** The newest of the recorded add time and the manifest file's mtime and ctime, never after `now`. */
export function lastAddMs(
  now: number,
  recorded: string | undefined,
  file: ManifestFileInfo | undefined,
): number {
  const times = [
    recorded === undefined ? NaN : Date.parse(recorded),
    file?.mtimeMs ?? NaN,
    file?.ctimeMs ?? NaN,
  ];
  const known = times.filter((t) => Number.isFinite(t));
  return known.length === 0 ? -Infinity : Math.min(now, Math.max(...known));
}

/** A recorded time (ISO) as milliseconds, with a time in the future (or garbage) counting as now. */
export function sinceMs(now: number, recorded: string | undefined): number {
  const t = recorded === undefined ? NaN : Date.parse(recorded);
  return Number.isFinite(t) ? Math.min(now, t) : now;
}
