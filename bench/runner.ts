// The one loop every scenario runs through (scenario.ts): setup once, then subject and peer in
// turn, each after its reset, and the median of the pairwise ratios (pairing keeps a ratio honest
// when the machine's speed drifts, as it does on a shared machine).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { generateTree } from './_lib/gen-tree.js';
import { CLI_PATH, WORK_DIR } from './_lib/paths.js';
import { parseSteps, underLockMs } from './_lib/steps.js';
import { median } from './_lib/timing.js';
import type { Scenario } from './scenario.js';

export interface Result {
  id: string;
  target: string;
  peer: string;
  subjectMs?: number;
  peerMs?: number;
  /** subject ÷ peer, the median of the pairs */
  ratio?: number;
  /** the median of the subject's own time under the prefix lock (Scenario.inProcess) */
  inProcessMs?: number;
  limit: number;
  rssMiB?: number;
  verdict: 'met' | 'missed' | 'yardstick' | 'peer missing' | 'failed';
  note?: string;
  /** the scenario's report command's output (a table of its own) */
  report?: string;
}

class StepFailed extends Error {}

/** Run one step under `sh -c`; a non-zero exit fails the scenario. Returns its stdout if kept. */
function shell(cmd: string, env: NodeJS.ProcessEnv, keepStdout = false): string {
  return run(cmd, env, keepStdout).stdout;
}

/** One step's stdout (if kept) and stderr; a non-zero exit fails the scenario. */
function run(cmd: string, env: NodeJS.ProcessEnv, keepStdout = false) {
  const r = spawnSync('sh', ['-c', cmd], {
    env,
    stdio: ['ignore', keepStdout ? 'pipe' : 'ignore', 'pipe'],
  });
  const stderr = r.stderr.toString();
  if (r.status !== 0)
    throw new StepFailed(`${cmd.slice(0, 60)}: exit ${r.status} ${stderr.trim()}`);
  return { stdout: keepStdout ? r.stdout.toString() : '', stderr };
}

function step(cmd: string, env: NodeJS.ProcessEnv): number {
  return stepReporting(cmd, env).ms;
}

/** A step's wall time, and the time under the lock its --verbose lines report (steps.ts). */
function stepReporting(cmd: string, env: NodeJS.ProcessEnv): { ms: number; underLockMs: number } {
  const t0 = process.hrtime.bigint();
  const { stderr } = run(cmd, env);
  return {
    ms: Number(process.hrtime.bigint() - t0) / 1e6,
    underLockMs: underLockMs(parseSteps(stderr)),
  };
}

function have(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

async function treeOf(n: number): Promise<string> {
  const dir = path.join(WORK_DIR, 'trees', `tree-${n}`);
  if (!existsSync(path.join(dir, '.complete'))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    await generateTree(n, path.join(dir, 'root'), { tar: path.join(dir, 'root.tar') });
    step(`touch "${dir}/.complete"`, process.env);
  }
  return path.join(dir, 'root');
}

async function envFor(s: Scenario): Promise<NodeJS.ProcessEnv> {
  const W = path.join(WORK_DIR, 'runs', s.id);
  step(`chmod -R u+w "${W}" 2>/dev/null; rm -rf "${W}"`, process.env);
  mkdirSync(W, { recursive: true });
  const tree = s.tree === undefined ? {} : { TREE: await treeOf(s.tree), N: String(s.tree) };
  return { ...process.env, PSTORE: CLI_PATH, W, ...tree };
}

function peakRss(s: Scenario, env: NodeJS.ProcessEnv): number {
  const out = path.join(env.W!, 'rss');
  for (const r of s.reset ?? []) step(r, env);
  step(`/usr/bin/time -f %M -o "${out}" sh -c '${s.subject.replace(/'/g, `'\\''`)}'`, env);
  return Number(readFileSync(out, 'utf8').trim().split('\n').pop()) / 1024;
}

function timed(s: Scenario, env: NodeJS.ProcessEnv, repeats: number) {
  const subject: number[] = [];
  const inProcess: number[] = [];
  const peer: number[] = [];
  for (let i = 0; i < repeats; i++) {
    for (const r of s.reset ?? []) step(r, env);
    const run = stepReporting(s.subject, env);
    subject.push(run.ms);
    inProcess.push(run.underLockMs);
    if (!s.peer) continue;
    for (const r of s.reset ?? []) step(r, env);
    peer.push(step(s.peer.cmd, env));
  }
  const ratios = peer.map((p, i) => subject[i]! / p);
  return { subject, inProcess, peer, ratios };
}

/** The timed runs and the untimed extras, as the columns of a result. */
function measured(s: Scenario, env: NodeJS.ProcessEnv, repeats: number): Partial<Result> {
  const t = timed(s, env, repeats);
  const inProcessMs = s.inProcess ? median(t.inProcess) : undefined;
  const value = s.peer ? median(t.ratios) : (inProcessMs ?? median(t.subject));
  const rssMiB =
    s.rssLimitMiB === undefined || !have('/usr/bin/time') ? undefined : peakRss(s, env);
  const rssOk = rssMiB === undefined || rssMiB < s.rssLimitMiB!;
  return {
    subjectMs: median(t.subject),
    ...(s.peer ? { peerMs: median(t.peer), ratio: value } : {}),
    ...(inProcessMs === undefined ? {} : { inProcessMs }),
    ...(rssMiB === undefined ? {} : { rssMiB }),
    ...(s.report === undefined ? {} : { report: shell(s.report, env, true) }),
    verdict: s.yardstick ? 'yardstick' : value <= s.limit && rssOk ? 'met' : 'missed',
  };
}

export async function runScenario(s: Scenario, repeats: number): Promise<Result> {
  const base: Result = {
    id: s.id,
    target: s.target,
    peer: s.peer?.name ?? '-',
    limit: s.limit,
    verdict: 'failed',
  };
  if (s.unavailable) return { ...base, verdict: 'peer missing', note: s.unavailable };
  const missing = (s.needs ?? []).filter((t) => !have(t));
  if (missing.length) return { ...base, verdict: 'peer missing', note: missing.join(', ') };
  const env = await envFor(s);
  try {
    for (const cmd of s.setup ?? []) step(cmd, env);
    return { ...base, ...measured(s, env, repeats) };
  } catch (err) {
    if (!(err instanceof StepFailed)) throw err;
    return { ...base, note: err.message };
  } finally {
    // A teardown that fails must not hide the result; its own error is the note's business.
    for (const cmd of s.teardown ?? []) spawnSync('sh', ['-c', cmd], { env, stdio: 'ignore' });
  }
}
