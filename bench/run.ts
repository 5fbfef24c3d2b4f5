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

const HELP = `usage: npm run bench [-- --only ID,ID...] [--repeats N] [--list]

Runs every scenario of bench/*.bench.ts (subject and peer interleaved, medians) and prints one
table of targets, ratios and verdicts; results also go to .bench-work/results.json.
  --only IDS   run these scenarios alone (ids as --list prints them)
  --repeats N  timed runs of each side (default 5; 3 at 100k files; 1 with BENCH_QUICK=1)
  --list       print every scenario's id and target, run nothing
BENCH_QUICK=1 runs the scenarios not marked slow, once each: a smoke run, not a measurement.`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      repeats: { type: 'string' },
      list: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return void process.stdout.write(`${HELP}\n`);
  const quick = process.env.BENCH_QUICK === '1';
  const only = values.only?.split(',');
  if (values.list) {
    for (const s of await allScenarios()) process.stdout.write(`${s.id}\t${s.target}\n`);
    return;
  }
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
