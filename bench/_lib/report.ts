// The header every benchmark prints (machine, load, revision), and small shared report helpers.

import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from './exec.js';
import { REPO_ROOT, WORK_DIR, shortPath } from './paths.js';

export type Log = (s?: string) => void;

/** Options of the benchmarks that run on generated trees of given sizes. */
export interface SizedBenchOptions {
  sizes: number[];
  /** runs per input; default 3 for ≤10k files, 1 above */
  repeats?: number;
  corpus: string;
  /** use the built-in generator even where the corpus exists */
  builtin: boolean;
  /** also profile the largest input */
  profile: boolean;
  /** exit non-zero when a target is missed */
  check: boolean;
}

export const stdoutLog: Log = (s = '') => process.stdout.write(`${s}\n`);

export async function gitDescribe(): Promise<string> {
  try {
    const head = (
      await run('git', ['-C', REPO_ROOT, 'rev-parse', '--short', 'HEAD'], { captureStdout: true })
    ).stdout.trim();
    const dirty =
      (
        await run('git', ['-C', REPO_ROOT, 'status', '--porcelain', '--', 'lib', 'cli'], {
          captureStdout: true,
        })
      ).stdout.trim() !== '';
    return `${head}${dirty ? ' + uncommitted lib/cli changes' : ''}`;
  } catch {
    return 'unknown revision';
  }
}

/** The 1-, 5- and 15-minute load averages, e.g. "2.10/3.40/5.00". */
export function loadString(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join('/');
}

export function machineInfo(): {
  cpus: number;
  model: string | undefined;
  memBytes: number;
  node: string;
  loadavg: number[];
} {
  return {
    cpus: os.cpus().length,
    model: os.cpus()[0]?.model.trim(),
    memBytes: os.totalmem(),
    node: process.version,
    loadavg: os.loadavg().map((l) => Number(l.toFixed(2))),
  };
}

/** Write .bench-work/results-NAME.json: the common header fields, then the bench's own. */
export async function writeResults(
  name: string,
  started: Date,
  rev: string,
  body: object,
  log: Log,
): Promise<void> {
  const out = path.join(WORK_DIR, `results-${name}.json`);
  await fsp.mkdir(WORK_DIR, { recursive: true });
  await fsp.writeFile(
    out,
    `${JSON.stringify(
      {
        bench: name,
        startedAt: started.toISOString(),
        finishedAt: new Date().toISOString(),
        machine: machineInfo(),
        pstore: rev,
        ...body,
      },
      null,
      2,
    )}\n`,
  );
  log(`results: ${shortPath(out)}`);
}

/** Print the "== NAME benchmark" header with the machine, its load and the revision. */
export async function printHeader(name: string, started: Date, log: Log): Promise<string> {
  const load = os.loadavg()[0]!;
  const rev = await gitDescribe();
  log(`== ${name} benchmark  ${started.toISOString()}`);
  log(
    `machine: ${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, node ${process.version}, load ${loadString()} (1/5/15 min)`,
  );
  if (load > 0.7 * os.cpus().length)
    log(`warning: the machine is busy (load ${load.toFixed(2)}); timings will be noisy`);
  const dist = await distFingerprint();
  log(`pstore: ${rev}; dist/ built ${dist.newest}; work dir ${shortPath(WORK_DIR)}`);
  log('');
  return rev;
}

/**
 * A fingerprint of the built CLI and library (every .js file under dist/: path, size, mtime), and
 * the newest mtime. Others may rebuild dist/ while a benchmark runs; comparing the fingerprint at
 * the start and the end says whether every row measured the same build.
 */
export async function distFingerprint(): Promise<{ hash: string; newest: string }> {
  const h = createHash('sha256');
  let newest = 0;
  const walk = async (dir: string): Promise<void> => {
    const ents = await fsp.readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of ents.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name.endsWith('.js')) {
        const st = await fsp.stat(p);
        newest = Math.max(newest, st.mtimeMs);
        h.update(`${path.relative(REPO_ROOT, p)} ${st.size} ${st.mtimeMs}\n`);
      }
    }
  };
  await walk(path.join(REPO_ROOT, 'dist'));
  return { hash: h.digest('hex').slice(0, 12), newest: new Date(newest).toISOString() };
}

/** Print (and return) a warning when dist/ changed between two fingerprints. */
export function distChanged(
  before: { hash: string; newest: string },
  after: { hash: string; newest: string },
  log: Log,
): string | undefined {
  if (before.hash === after.hash) return undefined;
  const msg = `warning: dist/ was rebuilt during this run (newest file ${before.newest} → ${after.newest}): rows before and after measured different builds`;
  log(msg);
  log('');
  return msg;
}
