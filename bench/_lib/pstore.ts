// Run the built CLI's `add` as a user would (`node dist/cli/main.js add SOURCE --json`), timed
// from spawn to exit, with its peak RSS recorded by the max-rss.mjs preload. --cpu-prof can be
// switched on for a profiling run.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { run } from './exec.js';
import { CLI_PATH, MAX_RSS_PRELOAD, WORK_DIR } from './paths.js';

/** The fields of `pstore add --json` the benchmarks check. */
export interface AddJson {
  id: string;
  name: string;
  version: string;
  files: number;
  dirs: number;
  symlinks: number;
  bytes: number;
  objectsWritten: number;
}

export interface AddRun {
  ms: number;
  /** peak resident set size of the pstore process, KiB */
  maxRssKiB: number;
  result: AddJson;
  /** with memTrace: process.memoryUsage() every 50 ms */
  memTrace?: MemTrace;
}

export interface MemTrace {
  fields: ['ms', 'rss', 'heapTotal', 'heapUsed', 'external', 'arrayBuffers'];
  samples: Array<[number, number, number, number, number, number]>;
}

export interface AddRunOptions {
  name: string;
  version: string;
  /** write a V8 CPU profile (.cpuprofile) of the run into this directory */
  cpuProfileDir?: string;
  /** sample the child's memory every 50 ms */
  memTrace?: boolean;
}

let seq = 0;

export async function pstoreAdd(
  source: string,
  store: string,
  opts: AddRunOptions,
): Promise<AddRun> {
  const rssFile = path.join(WORK_DIR, `maxrss-${process.pid}-${++seq}.txt`);
  const traceFile = path.join(WORK_DIR, `memtrace-${process.pid}-${seq}.json`);
  await fsp.mkdir(WORK_DIR, { recursive: true });
  const nodeArgs = ['--import', pathToFileURL(MAX_RSS_PRELOAD).href];
  if (opts.cpuProfileDir) nodeArgs.push('--cpu-prof', '--cpu-prof-dir', opts.cpuProfileDir);
  try {
    const r = await run(
      process.execPath,
      [
        ...nodeArgs,
        CLI_PATH,
        'add',
        source,
        '--name',
        opts.name,
        '--version',
        opts.version,
        '--json',
        '--store',
        store,
      ],
      {
        captureStdout: true,
        env: {
          ...process.env,
          BENCH_MAXRSS_FILE: rssFile,
          ...(opts.memTrace ? { BENCH_MEMTRACE_FILE: traceFile } : {}),
        },
      },
    );
    const maxRssKiB = Number((await fsp.readFile(rssFile, 'utf8')).trim());
    const added: AddRun = { ms: r.ms, maxRssKiB, result: JSON.parse(r.stdout) as AddJson };
    if (opts.memTrace)
      added.memTrace = JSON.parse(await fsp.readFile(traceFile, 'utf8')) as MemTrace;
    return added;
  } finally {
    await fsp.rm(rssFile, { force: true });
    await fsp.rm(traceFile, { force: true });
  }
}

export interface CliRun {
  ms: number;
  /** peak RSS of the pstore process, KiB (undefined with maxRss: false) */
  maxRssKiB?: number;
  stdout: string;
}

export interface CliRunOptions {
  /** record the peak RSS through the max-rss.mjs preload (default true; false runs plain node) */
  maxRss?: boolean;
  /** write a V8 CPU profile (.cpuprofile) of the run into this directory */
  cpuProfileDir?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Any pstore command, as a user runs it (`node dist/cli/main.js ARGS...`), timed from spawn to exit.
 * Pass --store/--json in `args` as needed; stdout is returned (parse it for --json).
 */
export async function pstoreCli(
  args: readonly string[],
  opts: CliRunOptions = {},
): Promise<CliRun> {
  const rssFile = path.join(WORK_DIR, `maxrss-${process.pid}-${++seq}.txt`);
  const withRss = opts.maxRss !== false;
  await fsp.mkdir(WORK_DIR, { recursive: true });
  const nodeArgs = withRss ? ['--import', pathToFileURL(MAX_RSS_PRELOAD).href] : [];
  if (opts.cpuProfileDir) nodeArgs.push('--cpu-prof', '--cpu-prof-dir', opts.cpuProfileDir);
  try {
    const r = await run(process.execPath, [...nodeArgs, CLI_PATH, ...args], {
      captureStdout: true,
      env: { ...process.env, ...opts.env, ...(withRss ? { BENCH_MAXRSS_FILE: rssFile } : {}) },
    });
    const out: CliRun = { ms: r.ms, stdout: r.stdout };
    if (withRss) out.maxRssKiB = Number((await fsp.readFile(rssFile, 'utf8')).trim());
    return out;
  } finally {
    await fsp.rm(rssFile, { force: true });
  }
}
