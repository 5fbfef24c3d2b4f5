// The one result writer: a table on stdout (every target beside its peer, met or missed) and the
// same rows as JSON in .bench-work/results.json for README tables and comparisons.

import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WORK_DIR } from './_lib/paths.js';
import { formatTable } from './_lib/table.js';
import type { Result } from './runner.js';

const ms = (v: number | undefined) =>
  v === undefined ? '' : v < 100 ? v.toFixed(1) : v.toFixed(0);

function row(r: Result): string[] {
  const limit =
    r.peer !== '-'
      ? `≤ ${r.limit.toFixed(2)}×`
      : `< ${r.limit} ms${r.inProcessMs === undefined ? '' : ' in-process'}`;
  return [
    r.target,
    ms(r.subjectMs),
    ms(r.inProcessMs),
    r.peer,
    ms(r.peerMs),
    r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`,
    limit,
    r.rssMiB === undefined ? '' : r.rssMiB.toFixed(0),
    r.note ? `${r.verdict} (${r.note.slice(0, 80)})` : r.verdict,
  ];
}

export function writeResults(results: readonly Result[], quick: boolean): void {
  const columns = [
    { header: 'target' },
    { header: 'pstore ms', align: 'right' as const },
    { header: 'in-process ms', align: 'right' as const },
    { header: 'peer' },
    { header: 'peer ms', align: 'right' as const },
    { header: 'ratio', align: 'right' as const },
    { header: 'limit', align: 'right' as const },
    { header: 'RSS MiB', align: 'right' as const },
    { header: 'verdict' },
  ];
  process.stdout.write(`${formatTable(columns, results.map(row))}\n`);
  for (const r of results)
    if (r.report) process.stdout.write(`\n${r.id}:\n${r.report.trimEnd()}\n`);
  const met = results.filter((r) => r.verdict === 'met').length;
  const targets = results.filter((r) => r.verdict !== 'yardstick').length;
  process.stdout.write(`${met} of ${targets} targets met${quick ? ' (BENCH_QUICK=1)' : ''}\n`);
  mkdirSync(WORK_DIR, { recursive: true });
  const machine = { cpus: os.cpus().length, load: os.loadavg(), node: process.version };
  writeFileSync(
    path.join(WORK_DIR, 'results.json'),
    `${JSON.stringify({ date: new Date().toISOString(), quick, machine, results }, null, 2)}\n`,
  );
}
