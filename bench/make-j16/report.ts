// The make-j16 scenario's report: each transaction's time under the prefix lock (its --verbose
// steps from recover to commit; `lock` is the wait, `unlock` the release) against the number of
// files the prefix held before it, in fifths by prefix size. Flat means it costs what it changes.
// `node --import=tsx report.ts WORK` reads WORK/logs/ of the last `make` run.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseSteps, underLockMs } from '../_lib/steps.js';
import { formatTable } from '../_lib/table.js';
import { median } from '../_lib/timing.js';
import { packageSizes } from './packages.js';

interface Txn {
  generation: number;
  files: number;
  waitMs: number;
  underLockMs: number;
  prefixFiles: number;
}

function transaction(logs: string, name: string, files: number): Txn {
  const { generation } = JSON.parse(readFileSync(path.join(logs, `${name}.json`), 'utf8')) as {
    generation: number;
  };
  const steps = parseSteps(readFileSync(path.join(logs, `${name}.log`), 'utf8'));
  return {
    generation,
    files,
    waitMs: steps.find((s) => s.step === 'lock')?.ms ?? 0,
    underLockMs: underLockMs(steps),
    prefixFiles: 0,
  };
}

function fifths(txns: Txn[]): string[][] {
  const rows: string[][] = [];
  for (let k = 0; k < 5; k++) {
    const part = txns.slice(
      Math.floor((k * txns.length) / 5),
      Math.floor(((k + 1) * txns.length) / 5),
    );
    rows.push([
      `${part[0]!.prefixFiles}–${part.at(-1)!.prefixFiles}`,
      String(part.length),
      median(part.map((t) => t.underLockMs)).toFixed(0),
      median(part.map((t) => t.files)).toFixed(0),
      median(part.map((t) => t.waitMs)).toFixed(0),
    ]);
  }
  return rows;
}

function main(work: string): void {
  const logs = path.join(work, 'logs');
  const txns = [...packageSizes()]
    .map(([name, files]) => transaction(logs, name, files))
    .sort((a, b) => a.generation - b.generation);
  let held = 0;
  for (const t of txns) [t.prefixFiles, held] = [held, held + t.files];
  const columns = [
    { header: 'prefix files before', align: 'right' as const },
    { header: 'transactions', align: 'right' as const },
    { header: 'ms under lock', align: 'right' as const },
    { header: 'files added', align: 'right' as const },
    { header: 'ms waiting', align: 'right' as const },
  ];
  process.stdout.write(`${formatTable(columns, fifths(txns))}\n`);
  process.stdout.write(`(medians; ${txns.length} transactions, ${held} files in all)\n`);
}

main(process.argv[2]!);
