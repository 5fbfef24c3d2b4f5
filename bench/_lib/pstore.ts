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
}

export interface AddRunOptions {
  name: string;
  version: string;
  /** write a V8 CPU profile (.cpuprofile) of the run into this directory */
  cpuProfileDir?: string;
}

let seq = 0;

export async function pstoreAdd(source: string, store: string, opts: AddRunOptions): Promise<AddRun> {
  const rssFile = path.join(WORK_DIR, `maxrss-${process.pid}-${++seq}.txt`);
  await fsp.mkdir(WORK_DIR, { recursive: true });
  const nodeArgs = ['--import', pathToFileURL(MAX_RSS_PRELOAD).href];
  if (opts.cpuProfileDir) nodeArgs.push('--cpu-prof', '--cpu-prof-dir', opts.cpuProfileDir);
  try {
    const r = await run(process.execPath, [
      ...nodeArgs, CLI_PATH, 'add', source, '--name', opts.name, '--version', opts.version, '--json', '--store', store,
    ], { captureStdout: true, env: { ...process.env, BENCH_MAXRSS_FILE: rssFile } });
    const maxRssKiB = Number((await fsp.readFile(rssFile, 'utf8')).trim());
    return { ms: r.ms, maxRssKiB, result: JSON.parse(r.stdout) as AddJson };
  } finally {
    await fsp.rm(rssFile, { force: true });
  }
}
