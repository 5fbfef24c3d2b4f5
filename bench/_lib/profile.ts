// Summarize a V8 .cpuprofile (node --cpu-prof): self and inclusive time per function, so the bench
// can say where an add spends its time without a profiler UI. Times come from the sample deltas.

import { promises as fsp } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { shortPath } from './paths.js';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileRow {
  fn: string;
  where: string;
  selfMs: number;
  totalMs: number;
}

export interface ProfileSummary {
  wallMs: number;
  /** samples where the main thread waited (for libuv I/O, a child process, timers) */
  idleMs: number;
  gcMs: number;
  /** self time grouped by source: pstore (dist/), node internals, each dependency */
  bySource: Array<{ source: string; selfMs: number }>;
  top: ProfileRow[];
}

function where(cf: CallFrame): string {
  if (!cf.url) return '';
  let file = cf.url;
  if (file.startsWith('file://')) file = shortPath(fileURLToPath(file));
  return `${file}:${cf.lineNumber + 1}`;
}

function sourceOf(cf: CallFrame): string {
  const u = cf.url;
  if (!u) return cf.functionName.startsWith('(') ? cf.functionName : '(native)';
  if (u.startsWith('node:')) return 'node internals';
  const nm = u.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (nm) return `dep: ${nm[1]}`;
  if (u.includes('/dist/lib/')) return 'pstore lib';
  if (u.includes('/dist/cli/')) return 'pstore cli';
  return 'other';
}

export async function summarizeProfile(file: string, topN = 15): Promise<ProfileSummary> {
  const prof = JSON.parse(await fsp.readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of prof.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const key = (cf: CallFrame) => `${cf.functionName || '(anonymous)'}\u0000${where(cf)}`;
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const bySource = new Map<string, number>();
  let idle = 0,
    gc = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = (prof.timeDeltas[i + 1] ?? 0) / 1000; // the delta after a sample is the time it stands for
    const node = byId.get(prof.samples[i]!);
    if (!node) continue;
    const cf = node.callFrame;
    if (cf.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    if (cf.functionName === '(garbage collector)') gc += dt;
    self.set(key(cf), (self.get(key(cf)) ?? 0) + dt);
    bySource.set(sourceOf(cf), (bySource.get(sourceOf(cf)) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const k = key(byId.get(id)!.callFrame);
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + dt);
    }
  }
  const top = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, topN)
    .map(([k, ms]) => {
      const [fn, loc] = k.split('\u0000') as [string, string];
      return { fn, where: loc, selfMs: ms, totalMs: total.get(k) ?? ms };
    });
  return {
    wallMs: (prof.endTime - prof.startTime) / 1000,
    idleMs: idle,
    gcMs: gc,
    bySource: [...bySource.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([source, selfMs]) => ({ source, selfMs })),
    top,
  };
}
