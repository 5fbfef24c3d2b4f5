// A tiny built-in generator of staged-install trees, for machines without ../shared/corpus (whose
// synth.sh is the real one). Deterministic for a given N. The shape roughly follows synth.sh:
// lognormal file sizes (median 4.8 KiB, sigma 1.77, capped at 4.5 MiB), ~3.5% empty files,
// ~8 files per directory nested up to 5 levels, a few symlinks, and a dist-info with a RECORD.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';

/** mulberry32: small, fast, and the same sequence on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MTIME = new Date(1_700_000_000 * 1000);
const SP = 'usr/lib/python3/dist-packages';
const WORDS = [
  'core',
  'util',
  'io',
  'linalg',
  'tests',
  'data',
  '_impl',
  'compat',
  'plugins',
  'stats',
];
const EXTS = [
  '.py',
  '.py',
  '.py',
  '.py',
  '.py',
  '.py',
  '.py',
  '.pyi',
  '.txt',
  '.json',
  '.so',
  '.dat',
];

export interface TreeOptions {
  /** also write the tree's tar here */
  tar?: string;
  /** the package's name: its top-level module and dist-info (default genpkg), so that several
   *  generated packages can share one prefix */
  pkg?: string;
}

/** Write a tree of exactly `n` regular files at `dir` (which must not exist). */
export async function generateTree(n: number, dir: string, opts: TreeOptions = {}): Promise<void> {
  const pkg = opts.pkg ?? 'genpkg';
  const payload = n - META_FILES;
  if (payload < 1) throw new Error(`built-in generator: N must be at least ${META_FILES + 1}`);
  // One random sequence for the whole tree, drawn in this order: the same tree for the same N.
  const rand = prng(20251121 + n);
  const pool = randomPool(rand);
  const dirs = planDirs(pkg, payload, rand);
  for (const d of dirs) await fsp.mkdir(path.join(dir, SP, d.rel), { recursive: true });
  const tree = new TreeWriter(dir);
  await writePayload(tree, dirs, payload, rand, pool);
  await addSymlinks(dir, dirs, Math.max(1, Math.floor(n / 625)), rand);
  await writeDistInfo(tree, pkg);
  if (opts.tar) writeTar(dir, opts.tar);
}

/** METADATA, top_level.txt and RECORD */
const META_FILES = 3;

interface GenDir {
  /** below the site directory */
  rel: string;
  depth: number;
}

/** 8 MiB of random bytes that file contents are cut from. */
function randomPool(rand: () => number): Buffer {
  const pool = Buffer.alloc(8 << 20);
  for (let i = 0; i < pool.length; i += 4) pool.writeUInt32LE(Math.floor(rand() * 4294967296), i);
  return pool;
}

/** About 8.4 files a directory, each new one below a recent one at most 5 levels deep. */
function planDirs(pkg: string, payload: number, rand: () => number): GenDir[] {
  const dirs: GenDir[] = [{ rel: pkg, depth: 0 }];
  const ndirs = Math.max(1, Math.round(payload / 8.4));
  while (dirs.length < ndirs) {
    const recent = dirs.slice(-200).filter((d) => d.depth < 5);
    const parent = recent[Math.floor(rand() * recent.length)] ?? dirs[0]!;
    dirs.push({
      rel: `${parent.rel}/${WORDS[Math.floor(rand() * WORDS.length)]}${dirs.length}`,
      depth: parent.depth + 1,
    });
  }
  return dirs;
}

/** Writes files with a fixed mtime and keeps their RECORD rows. */
class TreeWriter {
  readonly records: string[] = [];

  constructor(readonly dir: string) {}

  /** The RECORD row is kept before the write starts: rows in call order, not completion order. */
  async put(rel: string, data: Buffer, mode = 0o644): Promise<void> {
    const hash = createHash('sha256').update(data).digest('base64url');
    this.records.push(`${rel.slice(SP.length + 1)},sha256=${hash},${data.length}`);
    const p = path.join(this.dir, rel);
    await fsp.writeFile(p, data, { mode });
    await fsp.utimes(p, MTIME, MTIME);
  }
}

/** The payload files: every directory gets one first, the rest land at random; 64 writes at a time. */
async function writePayload(
  tree: TreeWriter,
  dirs: readonly GenDir[],
  payload: number,
  rand: () => number,
  pool: Buffer,
): Promise<void> {
  const writes: Array<Promise<void>> = [];
  for (let i = 0; i < payload; i++) {
    const d = i < dirs.length ? dirs[i]! : dirs[Math.floor(rand() * dirs.length)]!;
    const { name, data } = payloadFile(i, d, rand, pool);
    writes.push(tree.put(`${SP}/${d.rel}/${name}`, data, name.endsWith('.so') ? 0o755 : 0o644));
    if (writes.length >= 64) await Promise.all(writes.splice(0));
  }
  await Promise.all(writes);
}

/** ~3.5% empty `__init__` files; the rest lognormal (median 4.8 KiB, sigma 1.77, ≤ 4.5 MiB). */
function payloadFile(
  i: number,
  d: GenDir,
  rand: () => number,
  pool: Buffer,
): { name: string; data: Buffer } {
  if (rand() < 0.035) return { name: `__init__${i}.py`, data: Buffer.alloc(0) };
  const name = `mod_${i}${EXTS[Math.floor(rand() * EXTS.length)]!}`;
  const gauss = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const size = Math.min(Math.floor(Math.exp(Math.log(4800) + 1.77 * gauss)), 4608 * 1024);
  const off = Math.floor(rand() * (pool.length - size));
  const data = Buffer.concat([Buffer.from(`# ${d.rel}/${name}\n`), pool.subarray(off, off + size)]);
  return { name, data: data.subarray(0, Math.max(size, 1)) };
}

/** `count` symlinks, each to a file of a random directory (none where it has no file). */
async function addSymlinks(
  dir: string,
  dirs: readonly GenDir[],
  count: number,
  rand: () => number,
): Promise<void> {
  for (let k = 0; k < count; k++) {
    const d = dirs[Math.floor(rand() * dirs.length)]!;
    const entries = await fsp.readdir(path.join(dir, SP, d.rel), { withFileTypes: true });
    const files = entries.filter((e) => e.isFile());
    const target = files[Math.floor(rand() * files.length)];
    if (target) await fsp.symlink(target.name, path.join(dir, SP, d.rel, `link_${k}`));
  }
}

/** The dist-info last: its RECORD lists every payload file and the other metadata. */
async function writeDistInfo(tree: TreeWriter, pkg: string): Promise<void> {
  const info = `${SP}/${pkg}-1.0.dist-info`;
  await fsp.mkdir(path.join(tree.dir, info));
  const metadata = `Metadata-Version: 2.1\nName: ${pkg}\nVersion: 1.0\nSummary: built-in benchmark tree\n`;
  await tree.put(`${info}/METADATA`, Buffer.from(metadata));
  await tree.put(`${info}/top_level.txt`, Buffer.from(`${pkg}\n`));
  const record = [...tree.records, `${pkg}-1.0.dist-info/RECORD,,`].join('\n');
  await tree.put(`${info}/RECORD`, Buffer.from(`${record}\n`));
}

function writeTar(dir: string, tar: string): void {
  try {
    execFileSync('tar', ['--sort=name', '-cf', tar, '-C', dir, '.'], { stdio: 'ignore' });
  } catch {
    execFileSync('tar', ['-cf', tar, '-C', dir, '.'], { stdio: 'ignore' }); // not GNU tar: member order then follows readdir
  }
}
