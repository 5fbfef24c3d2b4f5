// The trees the ingest benchmark feeds to pstore and its peers: synthetic N-file trees from the
// shared corpus's synth.sh, the largest real package of the corpus (prepare.sh), or, where the
// corpus is absent, the built-in generator. Generated trees are cached under .bench-work/ with a
// stamp naming what made them, so a re-run reuses them and a changed generator regenerates them.

import { createHash } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { have, run } from './exec.js';
import { GENERATOR_VERSION, generateTree } from './gen-tree.js';
import { WORK_DIR, shortPath } from './paths.js';
import { removeTree } from './peers.js';

export interface TreeStats {
  files: number;
  bytes: number;
  dirs: number;
  symlinks: number;
}

export interface TreeInput extends TreeStats {
  kind: 'tree';
  label: string;
  /** where it came from, for the report */
  origin: string;
  dir: string;
  tar: string;
  tarBytes: number;
  /** package name and version given to `pstore add` */
  name: string;
  version: string;
}

export interface SkippedInput {
  kind: 'skipped';
  label: string;
  reason: string;
}

export type Input = TreeInput | SkippedInput;

export function sizeLabel(n: number): string {
  return n % 1000 === 0 ? `${n / 1000}k` : String(n);
}

/**
 * Regular files (count and bytes), directories below the root, and symlinks of a tree. `skipTop`
 * leaves out top-level names (a prefix's own `.pstore` state directory, say).
 */
export async function treeStats(
  root: string,
  skipTop?: (name: string) => boolean,
): Promise<TreeStats> {
  const s: TreeStats = { files: 0, bytes: 0, dirs: 0, symlinks: 0 };
  const walk = async (dir: string): Promise<void> => {
    const ents = await fsp.readdir(dir, { withFileTypes: true });
    const sizes: Array<Promise<void>> = [];
    for (const e of ents) {
      if (skipTop && dir === root && skipTop(e.name)) continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        s.dirs++;
        await walk(p);
      } else if (e.isSymbolicLink()) s.symlinks++;
      else if (e.isFile()) {
        s.files++;
        sizes.push(
          fsp.lstat(p).then((st) => {
            s.bytes += st.size;
          }),
        );
      }
    }
    await Promise.all(sizes);
  };
  await walk(root);
  return s;
}

interface Stamp {
  made: string;
  stats: TreeStats;
}

/** Reuse the tree at dir/tar if its stamp says `made`; otherwise (re)make it with `make`. */
async function cached(
  dir: string,
  tar: string,
  made: string,
  make: () => Promise<void>,
): Promise<TreeStats & { tarBytes: number }> {
  const stampFile = `${dir}.stamp.json`;
  let stamp: Stamp | undefined;
  try {
    stamp = JSON.parse(await fsp.readFile(stampFile, 'utf8')) as Stamp;
  } catch {
    /* absent or unreadable: make it */
  }
  if (stamp?.made !== made || !existsSync(dir) || !existsSync(tar)) {
    await fsp.rm(stampFile, { force: true });
    await removeTree(dir);
    await fsp.rm(tar, { force: true });
    const t0 = Date.now();
    process.stderr.write(`bench: generating ${shortPath(dir)} ...`);
    await make();
    process.stderr.write(` ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    stamp = { made, stats: await treeStats(dir) };
    await fsp.writeFile(stampFile, `${JSON.stringify(stamp, null, 2)}\n`);
  }
  return { ...stamp.stats, tarBytes: (await fsp.stat(tar)).size };
}

async function fileHash(file: string): Promise<string> {
  return createHash('sha256')
    .update(await fsp.readFile(file))
    .digest('hex')
    .slice(0, 16);
}

/** An N-file tree from the corpus's synth.sh: .bench-work/synth/N/ and N.tar. */
export async function synthInput(corpus: string, n: number): Promise<Input> {
  const label = `synth-${sizeLabel(n)}`;
  const script = path.join(corpus, 'synth.sh');
  if (!existsSync(script))
    return { kind: 'skipped', label, reason: `${shortPath(corpus)} not found` };
  if (!(await have('python3')))
    return { kind: 'skipped', label, reason: 'python3 (needed by synth.sh) not found' };
  const out = path.join(WORK_DIR, 'synth');
  const dir = path.join(out, String(n));
  const tar = path.join(out, `${n}.tar`);
  await fsp.mkdir(out, { recursive: true });
  const stats = await cached(dir, tar, `synth.sh ${await fileHash(script)}`, async () => {
    await run('bash', [script, String(n), out]);
  });
  return {
    kind: 'tree',
    label,
    origin: `synth.sh ${n}`,
    dir,
    tar,
    ...stats,
    name: 'synthpkg',
    version: '1.0',
  };
}

/** One real package of the corpus, unpacked by prepare.sh. */
export interface CorpusPackage {
  /** the Debian package name (also the tree's and tar's name) */
  name: string;
  /** the Debian version, from the .deb's file name */
  version: string;
  deb: string | undefined;
  dir: string;
  tar: string;
}

export interface PreparedCorpus {
  kind: 'corpus';
  /** .bench-work/corpus: prepare.sh's OUTDIR */
  out: string;
  packages: CorpusPackage[];
  /** the real wheels prepare.sh copied out of the *-whl packages (pip, setuptools, wheel) */
  wheels: string[];
}

/** Run the corpus's prepare.sh into .bench-work/corpus/ (once; a stamp names the script and the debs). */
export async function prepareCorpus(
  corpus: string,
  label = 'corpus',
): Promise<PreparedCorpus | SkippedInput> {
  const script = path.join(corpus, 'prepare.sh');
  if (!existsSync(script))
    return { kind: 'skipped', label, reason: `${shortPath(corpus)} not found` };
  if (!(await have('dpkg-deb')))
    return { kind: 'skipped', label, reason: 'dpkg-deb (needed by prepare.sh) not found' };
  const out = path.join(WORK_DIR, 'corpus');
  const debs = (await fsp.readdir(path.join(corpus, 'debs')))
    .filter((f) => f.endsWith('.deb'))
    .sort();
  const made = `prepare.sh ${await fileHash(script)} ${createHash('sha256').update(debs.join('\n')).digest('hex').slice(0, 16)}`;
  const stampFile = path.join(out, '.stamp');
  if ((await fsp.readFile(stampFile, 'utf8').catch(() => '')) !== made) {
    await removeTree(out);
    process.stderr.write(`bench: preparing ${shortPath(out)} from ${shortPath(corpus)}/debs ...\n`);
    await run('bash', [script, out]);
    await fsp.writeFile(stampFile, made);
  }
  const packages = (await fsp.readdir(path.join(out, 'trees'))).sort().map((name) => {
    const deb = debs.find((f) => f.startsWith(`${name}_`));
    const version = deb ? decodeURIComponent(deb.split('_')[1] ?? '0') : '0';
    return {
      name,
      version,
      deb,
      dir: path.join(out, 'trees', name),
      tar: path.join(out, 'tars', `${name}.tar`),
    };
  });
  const wheels = (await fsp.readdir(path.join(out, 'wheels')).catch(() => [] as string[]))
    .filter((f) => f.endsWith('.whl'))
    .sort()
    .map((f) => path.join(out, 'wheels', f));
  return { kind: 'corpus', out, packages, wheels };
}

/** The corpus package with the most files (python3-numpy), unpacked by prepare.sh. */
export async function largestCorpusInput(corpus: string): Promise<Input> {
  const label = 'largest corpus pkg';
  const prepared = await prepareCorpus(corpus, label);
  if (prepared.kind === 'skipped') return prepared;
  let best: { pkg: CorpusPackage; stats: TreeStats } | undefined;
  for (const pkg of prepared.packages) {
    const stats = await treeStats(pkg.dir);
    if (!best || stats.files > best.stats.files) best = { pkg, stats };
  }
  if (!best)
    return {
      kind: 'skipped',
      label,
      reason: `prepare.sh made no trees in ${shortPath(path.join(prepared.out, 'trees'))}`,
    };
  const { pkg } = best;
  return {
    kind: 'tree',
    label: pkg.name,
    origin: `corpus ${pkg.deb ?? pkg.name}`,
    dir: pkg.dir,
    tar: pkg.tar,
    ...best.stats,
    tarBytes: (await fsp.stat(pkg.tar)).size,
    name: pkg.name,
    version: pkg.version,
  };
}

/** An N-file tree from the built-in generator: .bench-work/builtin/N/ and N.tar. */
export async function builtinInput(n: number): Promise<Input> {
  const out = path.join(WORK_DIR, 'builtin');
  const dir = path.join(out, String(n));
  const tar = path.join(out, `${n}.tar`);
  await fsp.mkdir(out, { recursive: true });
  const stats = await cached(dir, tar, `gen-tree.ts v${GENERATOR_VERSION}`, () =>
    generateTree(n, dir, tar),
  );
  return {
    kind: 'tree',
    label: `builtin-${sizeLabel(n)}`,
    origin: `built-in generator ${n}`,
    dir,
    tar,
    ...stats,
    name: 'genpkg',
    version: '1.0',
  };
}
