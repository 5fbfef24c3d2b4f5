// Benchmark runner: `node --import=tsx bench/run.ts [--only ingest] [--sizes 10000,100000] ...`
// (npm run bench builds first). Each benchmark prints a table to stdout and writes its figures as
// JSON to .bench-work/results-NAME.json; progress goes to stderr.

import { parseArgs } from 'node:util';
import { DEFAULT_CORPUS } from './_lib/paths.js';

const BENCHES = ['ingest', 'activate', 'sync', 'wheel', 'oci'] as const;
type BenchName = (typeof BENCHES)[number];

const HELP = `usage: node --import=tsx bench/run.ts [options]

  --only NAMES       comma-separated benchmarks to run (${BENCHES.join(', ')}; default: all)
  --sizes N,N        synthetic tree sizes in files (default: ingest 10000,100000;
                     activate 1000,10000,100000; sync uses the corpus, not sizes)
  --repeats N        runs per input (default: 3 for trees of at most 10k files, 1 above;
                     sync: 5)
  --corpus DIR       the shared corpus (default ../shared/corpus; rows that need it are
                     skipped with a message when it is absent)
  --builtin          use the built-in tree generator instead of the corpus (ingest: at most
                     10k files)
  --profile          also profile the largest input: ingest traces the memory and CPU profile
                     (node --cpu-prof) of cold adds; activate CPU-profiles the activation, a
                     generations rollback and status; sync profiles a cold and a no-op sync
  --check            exit 1 when a target is missed or a sanity check fails
  -h, --help         show this help

Needs the built CLI (dist/cli/main.js): npm run build. Generated trees are cached in .bench-work/.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      sizes: { type: 'string' },
      repeats: { type: 'string' },
      corpus: { type: 'string' },
      builtin: { type: 'boolean' },
      profile: { type: 'boolean' },
      check: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const only = values.only
    ? values.only
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [...BENCHES];
  const unknown = only.filter((n) => !(BENCHES as readonly string[]).includes(n));
  if (unknown.length)
    throw new UsageError(`unknown benchmark ${unknown.join(', ')} (have: ${BENCHES.join(', ')})`);
  const sizesOf = (dflt: string) =>
    (values.sizes ?? dflt).split(',').map((s) => positiveInt(s.trim(), '--sizes'));
  if (values.sizes !== undefined) sizesOf(''); // validate --sizes before anything runs
  const repeats =
    values.repeats === undefined ? undefined : positiveInt(values.repeats, '--repeats');

  // Options every bench takes; ingest and activate also take sizes (each with its own default).
  const common = {
    ...(repeats === undefined ? {} : { repeats }),
    corpus: values.corpus ?? DEFAULT_CORPUS,
    profile: values.profile === true,
    check: values.check === true,
  };
  const sized = (dflt: string) => ({
    ...common,
    sizes: sizesOf(dflt),
    builtin: values.builtin === true,
  });
  let ok = true;
  for (const name of only as BenchName[]) {
    if (name === 'ingest') {
      ok &&= (await (await import('./ingest.bench.js')).runIngestBench(sized('10000,100000'))).ok;
    } else if (name === 'activate') {
      ok &&= (
        await (await import('./activate.bench.js')).runActivateBench(sized('1000,10000,100000'))
      ).ok;
    } else if (name === 'sync') {
      ok &&= (await (await import('./sync.bench.js')).runSyncBench(common)).ok;
    } else if (name === 'wheel') {
      ok &&= (await (await import('./wheel.bench.js')).runWheelBench(common)).ok;
    } else if (name === 'oci') {
      ok &&= (await (await import('./oci.bench.js')).runOciBench(common)).ok;
    }
    process.stdout.write('\n');
  }
  return ok ? 0 : 1;
}

class UsageError extends Error {}

function positiveInt(s: string, opt: string): number {
  const n = Number(s.replace(/_/g, ''));
  if (!Number.isInteger(n) || n <= 0)
    throw new UsageError(`${opt}: ${JSON.stringify(s)} is not a positive whole number`);
  return n;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (
      err instanceof UsageError ||
      (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      process.stderr.write(`bench: ${(err as Error).message}\n${HELP}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(
        `bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      process.exitCode = 1;
    }
  },
);
