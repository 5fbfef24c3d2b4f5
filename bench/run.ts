// `npm run bench [-- --only ID,ID]`: every scenario of every bench/*.bench.ts, one table.
// BENCH_QUICK=1 runs the scenarios not marked slow, once each: a smoke run, not a measurement.

import { readdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { requireBuiltCli } from './_lib/paths.js';
import { runScenario, type Result } from './runner.js';
import { writeResults } from './results.js';
import type { Scenario } from './scenario.js';

async function allScenarios(): Promise<Scenario[]> {
  const files = readdirSync(import.meta.dirname)
    .filter((f) => f.endsWith('.bench.ts'))
    .sort();
  const loaded = await Promise.all(
    files.map(async (f) => ((await import(`./${f}`)) as { scenarios?: Scenario[] }).scenarios),
  );
  return loaded.flatMap((s) => s ?? []);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { only: { type: 'string' }, repeats: { type: 'string' } },
  });
  const quick = process.env.BENCH_QUICK === '1';
  const only = values.only?.split(',');
  requireBuiltCli();
  const chosen = (await allScenarios()).filter((s) =>
    only ? only.includes(s.id) : !(quick && s.slow),
  );
  const results: Result[] = [];
  for (const s of chosen) {
    const repeats = Number(values.repeats ?? (quick ? 1 : (s.tree ?? 0) >= 100000 ? 3 : 5));
    process.stderr.write(`bench: ${s.id} (${repeats}×)\n`);
    results.push(await runScenario(s, repeats));
  }
  writeResults(results, quick);
}

await main();
