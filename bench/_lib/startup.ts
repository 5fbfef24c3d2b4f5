// What every CLI row pays before any work: node's startup, and pstore's imports on top of it.

import { run } from './exec.js';
import { pstoreCli } from './pstore.js';
import { median } from './timing.js';

export interface StartupResult {
  /** `node -e 0` */
  nodeMs: number[];
  /** `node dist/cli/main.js --version`: node's startup plus the CLI's imports (it loads lib/index.js) */
  cliVersionMs: number[];
  nodeMedianMs: number;
  cliVersionMedianMs: number;
}

export async function measureStartup(runs = 7): Promise<StartupResult> {
  const nodeMs: number[] = [];
  const cliVersionMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    nodeMs.push((await run(process.execPath, ['-e', '0'])).ms);
    cliVersionMs.push((await pstoreCli(['--version'], { maxRss: false })).ms);
  }
  const r1 = (x: number) => Math.round(x * 10) / 10;
  return {
    nodeMs: nodeMs.map(r1),
    cliVersionMs: cliVersionMs.map(r1),
    nodeMedianMs: median(nodeMs),
    cliVersionMedianMs: median(cliVersionMs),
  };
}
