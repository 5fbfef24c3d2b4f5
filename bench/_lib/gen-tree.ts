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
  const rand = prng(20251121 + n);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const pool = Buffer.alloc(8 << 20);
  for (let i = 0; i < pool.length; i += 4) pool.writeUInt32LE(Math.floor(rand() * 4294967296), i);

  const metaFiles = 3;
  const payload = n - metaFiles;
  if (payload < 1) throw new Error(`built-in generator: N must be at least ${metaFiles + 1}`);
  const dirs: Array<{ rel: string; depth: number }> = [{ rel: pkg, depth: 0 }];
  const ndirs = Math.max(1, Math.round(payload / 8.4));
  while (dirs.length < ndirs) {
    const recent = dirs.slice(-200).filter((d) => d.depth < 5);
    const parent = recent[Math.floor(rand() * recent.length)] ?? dirs[0]!;
    dirs.push({
      rel: `${parent.rel}/${WORDS[Math.floor(rand() * WORDS.length)]}${dirs.length}`,
      depth: parent.depth + 1,
    });
  }
  for (const d of dirs) await fsp.mkdir(path.join(dir, SP, d.rel), { recursive: true });

  const records: string[] = [];
  const put = async (rel: string, data: Buffer, mode = 0o644) => {
    const p = path.join(dir, rel);
    await fsp.writeFile(p, data, { mode });
    await fsp.utimes(p, MTIME, MTIME);
    records.push(
      `${rel.slice(SP.length + 1)},sha256=${createHash('sha256').update(data).digest('base64url')},${data.length}`,
    );
  };
  const writes: Array<Promise<void>> = [];
  for (let i = 0; i < payload; i++) {
    const d = i < dirs.length ? dirs[i]! : dirs[Math.floor(rand() * dirs.length)]!;
    let name: string;
    let data: Buffer;
    if (rand() < 0.035) {
      name = `__init__${i}.py`;
      data = Buffer.alloc(0);
    } else {
      const ext = EXTS[Math.floor(rand() * EXTS.length)]!;
      name = `mod_${i}${ext}`;
      const size = Math.min(Math.floor(Math.exp(Math.log(4800) + 1.77 * gauss())), 4608 * 1024);
      const off = Math.floor(rand() * (pool.length - size));
      data = Buffer.concat([
        Buffer.from(`# ${d.rel}/${name}\n`),
        pool.subarray(off, off + size),
      ]).subarray(0, Math.max(size, 1));
    }
    writes.push(put(`${SP}/${d.rel}/${name}`, data, name.endsWith('.so') ? 0o755 : 0o644));
    if (writes.length >= 64) await Promise.all(writes.splice(0));
  }
  await Promise.all(writes);
  for (let k = 0; k < Math.max(1, Math.floor(n / 625)); k++) {
    const d = dirs[Math.floor(rand() * dirs.length)]!;
    const files = (await fsp.readdir(path.join(dir, SP, d.rel), { withFileTypes: true })).filter(
      (e) => e.isFile(),
    );
    const target = files[Math.floor(rand() * files.length)];
    if (target) await fsp.symlink(target.name, path.join(dir, SP, d.rel, `link_${k}`));
  }
  const info = `${SP}/${pkg}-1.0.dist-info`;
  await fsp.mkdir(path.join(dir, info));
  await put(
    `${info}/METADATA`,
    Buffer.from(
      `Metadata-Version: 2.1\nName: ${pkg}\nVersion: 1.0\nSummary: built-in benchmark tree\n`,
    ),
  );
  await put(`${info}/top_level.txt`, Buffer.from(`${pkg}\n`));
  await put(
    `${info}/RECORD`,
    Buffer.from(`${[...records, `${pkg}-1.0.dist-info/RECORD,,`].join('\n')}\n`),
  );
  if (opts.tar) writeTar(dir, opts.tar);
}

function writeTar(dir: string, tar: string): void {
  try {
    execFileSync('tar', ['--sort=name', '-cf', tar, '-C', dir, '.'], { stdio: 'ignore' });
  } catch {
    execFileSync('tar', ['-cf', tar, '-C', dir, '.'], { stdio: 'ignore' }); // not GNU tar: member order then follows readdir
  }
}
