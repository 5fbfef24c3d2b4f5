// Library calls timed inside one node process (inproc-child.mjs), for operations whose CLI wall
// time is mostly node's startup and module loading: a generations switch, status.

import path from 'node:path';
import { run } from './exec.js';
import { REPO_ROOT } from './paths.js';

export const LIB_PATH = path.join(REPO_ROOT, 'dist', 'lib', 'index.js');
const CHILD = path.join(import.meta.dirname, 'inproc-child.mjs');

export type InprocSpec =
  | {
      op: 'rollback';
      store: string;
      prefix: string;
      gens: [number, number];
      runs: number;
      cpuProfile?: string;
    }
  | { op: 'status'; store: string; prefix: string; runs: number; cpuProfile?: string };

export interface InprocResult {
  /** the first import of dist/lib/index.js in the child (excluded from runsMs) */
  importMs: number;
  runsMs: number[];
  /** sanity failures seen by the child (wrong generation after a rollback, ...) */
  problems: string[];
  /** the prefix's generation at the end */
  generation: number;
}

export async function inprocess(spec: InprocSpec): Promise<InprocResult> {
  const r = await run(process.execPath, [CHILD, JSON.stringify({ lib: LIB_PATH, ...spec })], {
    captureStdout: true,
  });
  return JSON.parse(r.stdout) as InprocResult;
}
