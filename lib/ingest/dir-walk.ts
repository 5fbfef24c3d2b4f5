// Walking a directory source without following a symlink anywhere: O_NOFOLLOW on a path guards
// only its last component, so a parent directory swapped for a symlink mid-walk would lead a
// path-based walk (and a later open of a file's path) out of the tree. Node has no openat(2);
// on Linux `/proc/self/fd/N/NAME` resolves NAME inside the directory open as N, which is the
// same thing. Each directory is opened O_DIRECTORY|O_NOFOLLOW relative to its parent's
// descriptor, and each regular file's identity (device, inode) recorded, so that the file
// opened later by its path can be checked to be the one the walk saw (SPEC.md §Ingest).

import fs, { constants as fsc } from 'node:fs';
import path from 'node:path';
import { PstoreError, errnoCode } from '../core/errors.js';
import { normalizeMemberPath } from '../core/safe-path.js';

/** A regular file the walk found: where it is, and which file it was. */
export interface WalkedFile {
  /** the member path (normalized, SPEC.md §Path policy) */
  member: string;
  /** its directory, absolute: one string shared by the files of a directory (100k paths add up) */
  dir: string;
  name: string;
  dev: number;
  ino: number;
  size: number;
}

/**
 * What the walk reports, in name order, directories before their contents; each name passes the
 * path policy before anything at it is opened or read.
 */
export interface WalkVisitor {
  dir(member: string): void;
  symlink(member: string, target: string): void;
  file(found: WalkedFile): void;
  /** anything else (FIFO, socket, device): the visitor refuses it */
  other(abs: string, kind: string): void;
}

/** Whether /proc gives descriptor-relative names here (Linux with /proc mounted). */
const PROC_FD = fs.existsSync('/proc/self/fd');

/** The name by which `name` inside the directory open as `fd` (at `abs`) can be reached safely. */
function inDir(fd: number, abs: string, name: string): string {
  return PROC_FD ? `/proc/self/fd/${fd}/${name}` : path.join(abs, name);
}

export function walkTree(root: string, visit: WalkVisitor): void {
  const fd = openDir(root, root);
  try {
    walkDir(fd, root, '', visit);
  } finally {
    fs.closeSync(fd);
  }
}

function walkDir(fd: number, abs: string, rel: string, visit: WalkVisitor): void {
  try {
    walkDirEntries(fd, abs, rel, visit);
  } catch (err) {
    throw namedAt(err, abs);
  }
}

/**
 * An error of a call on a descriptor-relative name (`/proc/self/fd/N/NAME`) names, instead, the
 * path the user gave: EACCES on an unreadable subdirectory says which one. `dir` is the directory
 * walked; a name inside it keeps its last component.
 */
function namedAt(err: unknown, dir: string): unknown {
  const e = err as { path?: unknown };
  if (errnoCode(err) === undefined || typeof e.path !== 'string') return err;
  const m = /^\/proc\/self\/fd\/\d+(?:\/(.*))?$/.exec(e.path);
  if (m) e.path = m[1] === undefined ? dir : path.join(dir, m[1]);
  return err;
}

function walkDirEntries(fd: number, abs: string, rel: string, visit: WalkVisitor): void {
  const dirents = fs.readdirSync(PROC_FD ? `/proc/self/fd/${fd}` : abs, { withFileTypes: true });
  dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const d of dirents) {
    const memberRel = rel === '' ? d.name : `${rel}/${d.name}`;
    const member = normalizeMemberPath(memberRel);
    const memberAbs = path.join(abs, d.name);
    const safe = inDir(fd, abs, d.name);
    if (d.isDirectory()) {
      visit.dir(member);
      const child = openDir(safe, memberAbs);
      try {
        walkDir(child, memberAbs, memberRel, visit);
      } finally {
        fs.closeSync(child);
      }
    } else if (d.isSymbolicLink()) {
      visit.symlink(member, fs.readlinkSync(safe));
    } else if (d.isFile()) {
      const st = fs.lstatSync(safe);
      if (!st.isFile()) throw changed(memberAbs, 'is no longer a regular file');
      visit.file({ member, dir: abs, name: d.name, dev: st.dev, ino: st.ino, size: st.size });
    } else {
      visit.other(memberAbs, direntKind(d));
    }
  }
}

function openDir(safe: string, abs: string): number {
  try {
    return fs.openSync(safe, fsc.O_RDONLY | fsc.O_DIRECTORY | fsc.O_NOFOLLOW);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ELOOP' || code === 'ENOTDIR')
      throw changed(abs, 'was a directory and is no longer one (a symlink swapped in?)', err);
    throw namedAt(err, path.dirname(abs));
  }
}

/**
 * Open a file the walk found, by its path, and check it is still that file: a regular file (a
 * FIFO is not waited on: O_NONBLOCK) with the same device and inode. A path that leads elsewhere
 * now (a parent swapped for a symlink, the file replaced) is refused.
 */
export function openWalkedFile(found: WalkedFile): { fd: number; st: fs.Stats } {
  const abs = path.join(found.dir, found.name);
  let fd: number;
  try {
    fd = fs.openSync(abs, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
  } catch (err) {
    if (errnoCode(err) === 'ELOOP')
      throw changed(abs, 'turned into a symlink while being read', err);
    throw err;
  }
  const st = fs.fstatSync(fd);
  if (st.isFile() && st.dev === found.dev && st.ino === found.ino) return { fd, st };
  fs.closeSync(fd);
  throw changed(
    abs,
    'is no longer the regular file the walk found (replaced, or a parent swapped for a symlink)',
  );
}

function changed(abs: string, why: string, cause?: unknown): PstoreError {
  return new PstoreError('EPSTORE_UNSAFE_PATH', `${abs}: ${why}`, {
    subject: abs,
    ...(cause === undefined ? {} : { cause }),
  });
}

function direntKind(d: {
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}): string {
  if (d.isFIFO()) return 'a FIFO';
  if (d.isSocket()) return 'a socket';
  if (d.isCharacterDevice()) return 'a character device';
  if (d.isBlockDevice()) return 'a block device';
  return 'a special file';
}
