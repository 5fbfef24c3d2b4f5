// Fixture trees from object literals, and an independent description of a tree on disk (what a
// correct manifest of it must say), computed without any pstore code.
//
//   await buildTree(dir, {
//     'README': 'hello\n',                       // a file (string or bytes), mode 0644
//     bin: { run: file('#!/bin/sh\n', 0o755) },  // a plain object is a directory
//     empty: {},                                 // an empty directory
//     'lib/libz.so': symlink('libz.so.1'),       // slashes create parent directories
//     pipe: fifo(),
//   });

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fsp, type Stats } from 'node:fs';
import path from 'node:path';

export class FileNode {
  constructor(
    readonly content: string | Uint8Array,
    readonly mode: number,
  ) {}
}
export class SymlinkNode {
  constructor(readonly target: string) {}
}
export class FifoNode {}
export class SocketNode {}

export type TreeNode =
  string | Uint8Array | FileNode | SymlinkNode | FifoNode | SocketNode | TreeSpec;
export interface TreeSpec {
  [name: string]: TreeNode;
}

export const file = (content: string | Uint8Array, mode = 0o644): FileNode =>
  new FileNode(content, mode);
export const symlink = (target: string): SymlinkNode => new SymlinkNode(target);
export const fifo = (): FifoNode => new FifoNode();
/** A unix domain socket (bound by a short python3 process; the socket file outlives it). */
export const socket = (): SocketNode => new SocketNode();

function isSpec(node: TreeNode): node is TreeSpec {
  return (
    typeof node === 'object' &&
    !(node instanceof Uint8Array) &&
    !(node instanceof FileNode) &&
    !(node instanceof SymlinkNode) &&
    !(node instanceof FifoNode) &&
    !(node instanceof SocketNode)
  );
}

/** Create `spec` under `root` (created if missing). Modes are set exactly (umask does not apply). */
export async function buildTree(root: string, spec: TreeSpec): Promise<string> {
  await fsp.mkdir(root, { recursive: true });
  for (const [name, node] of Object.entries(spec)) {
    const p = path.join(root, name);
    await fsp.mkdir(path.dirname(p), { recursive: true });
    if (typeof node === 'string' || node instanceof Uint8Array) {
      await fsp.writeFile(p, node);
      await fsp.chmod(p, 0o644);
    } else if (node instanceof FileNode) {
      await fsp.writeFile(p, node.content);
      await fsp.chmod(p, node.mode);
    } else if (node instanceof SymlinkNode) {
      await fsp.symlink(node.target, p);
    } else if (node instanceof FifoNode) {
      execFileSync('mkfifo', [p]);
    } else if (node instanceof SocketNode) {
      execFileSync('python3', [
        '-c',
        'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])',
        p,
      ]);
    } else if (isSpec(node)) {
      await buildTree(p, node);
    }
  }
  return root;
}

/** What a manifest says about one path (the same shape as lib's ManifestFile, computed independently). */
export type Described =
  | { path: string; type: 'file'; exec: boolean; size: number; integrity: string }
  | { path: string; type: 'dir' }
  | { path: string; type: 'symlink'; target: string };

export function sha512Integrity(data: Uint8Array): string {
  return `sha512-${createHash('sha512').update(data).digest('base64')}`;
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function sha512Hex(data: Uint8Array): string {
  return createHash('sha512').update(data).digest('hex');
}

export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export interface WalkEntry {
  /** `a/b/c`, relative to the root */
  rel: string;
  abs: string;
  st: Stats;
}

/**
 * Every path below `root` (lstat, never following symlinks), parents before children, names of a
 * directory in sorted order. `skip(name, parentRel)` leaves a path out with everything below it.
 * The one tree walker of the test helpers: listings, snapshots and descriptions format its entries.
 */
export async function walkTree(
  root: string,
  skip: (name: string, parentRel: string) => boolean = () => false,
): Promise<WalkEntry[]> {
  const out: WalkEntry[] = [];
  const walk = async (rel: string): Promise<void> => {
    const dir = rel === '' ? root : path.join(root, rel);
    for (const name of (await fsp.readdir(dir)).sort()) {
      if (skip(name, rel)) continue;
      const entry = { rel: rel === '' ? name : `${rel}/${name}`, abs: path.join(dir, name) };
      const st = await fsp.lstat(entry.abs);
      out.push({ ...entry, st });
      if (st.isDirectory()) await walk(entry.rel);
    }
  };
  await walk('');
  return out;
}

/** Walk `root` with lstat (never following symlinks); the result is sorted by the UTF-8 bytes of the path. */
export async function describeTree(root: string): Promise<Described[]> {
  const out: Described[] = [];
  for (const { rel, abs, st } of await walkTree(root)) {
    if (st.isDirectory()) {
      out.push({ path: rel, type: 'dir' });
    } else if (st.isSymbolicLink()) {
      out.push({ path: rel, type: 'symlink', target: await fsp.readlink(abs) });
    } else if (st.isFile()) {
      const data = await fsp.readFile(abs);
      out.push({
        path: rel,
        type: 'file',
        exec: (st.mode & 0o111) !== 0,
        size: data.byteLength,
        integrity: sha512Integrity(data),
      });
    } else {
      throw new Error(`describeTree: ${abs} is neither file, dir nor symlink`);
    }
  }
  return out.sort((a, b) => byteOrder(a.path, b.path));
}

/** A tree of `count` small files spread over directories, many sharing contents (for big-tree tests). */
export function manyFiles(
  count: number,
  opts: { distinct?: number; prefix?: string; salt?: string } = {},
): TreeSpec {
  const distinct = opts.distinct ?? count;
  const spec: TreeSpec = {};
  for (let i = 0; i < count; i++) {
    const dir = `${opts.prefix ?? 'd'}${Math.floor(i / 100)}`;
    spec[`${dir}/f${i}.txt`] = `${opts.salt ?? ''}content ${i % distinct}\n`;
  }
  return spec;
}
