// Ingest benchmark: `pstore add` of a directory (cold: new store; warm: every object present) and of
// the same tree as a .tar, side by side with what a user would otherwise run on the same bytes:
// `tar -xf`, `sha512sum` of every file, `cp -a`, and "hash + copy" (sha512sum + cp -a, the floor
// for a content-addressed copy). Targets: pstore add ≥ 0.5× the throughput of hash + copy, and a
// peak RSS under 300 MiB at 100k files.
//
// Method: inputs are cached under .bench-work/; the tree and its tar are read once before timing
// (the page cache cannot be dropped without root, so every run reads from a warm cache instead);
// `sync` runs untimed before each timed command, so no command pays for flushing the previous
// one's output; outputs are removed after each run's last command. The median of N runs is
// reported (3 for trees of at most 10k files, 1 above; --repeats overrides).

import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  builtinInput,
  largestCorpusInput,
  sizeLabel,
  synthInput,
  type Input,
  type TreeInput,
} from './_lib/inputs.js';
import { WORK_DIR, requireBuiltCli, shortPath } from './_lib/paths.js';
import {
  copyTree,
  removeTree,
  settle,
  sha512All,
  syncFs,
  tarExtract,
  warmRead,
} from './_lib/peers.js';
import { summarizeProfile, type ProfileSummary } from './_lib/profile.js';
import { pstoreAdd, type AddRun, type MemTrace } from './_lib/pstore.js';
import { gitDescribe, writeResults, type SizedBenchOptions } from './_lib/report.js';
import { formatTable, type Column } from './_lib/table.js';
import { formatCount, formatKiB, formatMB, formatMs, formatRatio, median } from './_lib/timing.js';

/** `profile`: also profile cold adds of the largest input (CPU with --cpu-prof, memory by sampling). */
export type IngestBenchOptions = SizedBenchOptions;

export const TARGETS = {
  /** pstore add (cold) throughput over hash + copy throughput */
  minRatioToHashCopy: 0.5,
  /** peak RSS of pstore add at 100k files, MiB */
  maxRssMiBAt100k: 300,
  rssTargetFiles: 100_000,
};

const OPS = [
  'addCold',
  'addWarm',
  'addTar',
  'tarExtract',
  'sha512sum',
  'cpA',
  'hashCopy',
  'sync',
  'hashCopySync',
] as const;
type Op = (typeof OPS)[number];

const OP_LABEL: Record<Op, string> = {
  addCold: 'pstore add DIR  (cold: new store)',
  addWarm: 'pstore add DIR  (warm: all present)',
  addTar: 'pstore add TAR  (cold: new store)',
  tarExtract: 'tar -xf TAR     (new dir)',
  sha512sum: 'sha512sum       (every file)',
  cpA: 'cp -a DIR',
  hashCopy: 'hash + copy     (sha512sum + cp -a)',
  sync: 'sync -f         (after cp -a)',
  hashCopySync: 'hash + copy + sync',
};

const PSTORE_OPS: readonly Op[] = ['addCold', 'addWarm', 'addTar'];

interface OpResult {
  runsMs: number[];
  medianMs: number;
  filesPerSec: number;
  mbPerSec: number;
  /** pstore ops: peak RSS over the runs, KiB */
  maxRssKiB?: number;
  /** pstore ops: throughput relative to the peers */
  vsHashCopy?: number;
  vsHashCopySync?: number;
  vsTarExtract?: number;
}

/** Memory of one cold add, sampled every 50 ms: peaks, and the curve at each tenth of the run. */
interface MemorySummary {
  label: string;
  wallMs: number;
  peak: {
    rss: number;
    heapTotal: number;
    heapUsed: number;
    external: number;
    arrayBuffers: number;
  };
  /** when RSS peaked, as a fraction of the run */
  rssPeakAt: number;
  curve: Array<{ at: number; rss: number; heapUsed: number; arrayBuffers: number }>;
}

interface InputResult {
  label: string;
  origin: string;
  files: number;
  bytes: number;
  dirs: number;
  symlinks: number;
  tarBytes: number;
  repeats: number;
  ops: Record<Op, OpResult>;
  entryId: string;
  objectsWritten: number;
  checks: Array<{ what: string; ok: boolean }>;
  /** 1-minute load average at the start of each run (other work on the machine skews timings) */
  loadavg: number[];
  profile?: Record<string, ProfileSummary>;
  memory?: MemorySummary[];
}

type Log = (s?: string) => void;

export async function runIngestBench(opts: IngestBenchOptions): Promise<{ ok: boolean }> {
  requireBuiltCli();
  const started = new Date();
  const log: Log = (s = '') => process.stdout.write(`${s}\n`);
  const load = os.loadavg()[0]!;
  log(`== ingest benchmark  ${started.toISOString()}`);
  log(
    `machine: ${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, node ${process.version}, load ${load.toFixed(2)}`,
  );
  if (load > 0.7 * os.cpus().length)
    log(`warning: the machine is busy (load ${load.toFixed(2)}); timings will be noisy`);
  log(`pstore: ${await gitDescribe()}; work dir ${shortPath(WORK_DIR)}`);
  log('');

  const inputs = await chooseInputs(opts);
  const results: InputResult[] = [];
  const skipped: Array<{ label: string; reason: string }> = [];
  for (const input of inputs) {
    if (input.kind === 'skipped') {
      log(`${input.label}: skipped: ${input.reason}`);
      log('');
      skipped.push({ label: input.label, reason: input.reason });
      continue;
    }
    const repeats = opts.repeats ?? (input.files <= 10_000 ? 3 : 1);
    const r = await measureInput(input, repeats);
    results.push(r);
    printInput(r, log);
  }

  const largest = inputs
    .filter((i): i is TreeInput => i.kind === 'tree')
    .sort((a, b) => b.files - a.files)[0];
  if (opts.profile && largest) {
    const r = results.find((x) => x.label === largest.label)!;
    r.memory = await traceMemory(largest);
    printMemory(largest, r.memory, log);
    r.profile = await profileInput(largest);
    printProfile(largest, r.profile, log);
  }

  const verdicts = printTargets(results, log);
  await writeResults(
    'ingest',
    started,
    await gitDescribe(),
    {
      units: {
        ms: 'wall milliseconds, spawn to exit',
        mbPerSec: '10^6 bytes of file payload per second',
        maxRssKiB: 'KiB',
        memory: 'bytes',
      },
      targets: TARGETS,
      verdicts,
      inputs: results,
      skipped,
    },
    log,
  );
  const ok =
    verdicts.every((v) => v.ok !== false) && results.every((r) => r.checks.every((c) => c.ok));
  return { ok: ok || !opts.check };
}

async function chooseInputs(opts: IngestBenchOptions): Promise<Input[]> {
  const sizes = [...opts.sizes].sort((a, b) => a - b);
  const inputs: Input[] = [];
  const corpusMissing = !(await fsp.stat(opts.corpus).then(
    (s) => s.isDirectory(),
    () => false,
  ));
  if (opts.builtin || corpusMissing) {
    // Without the corpus: say so for every corpus row, then run the built-in generator at the
    // requested sizes up to 10k (larger ones would only make a fallback run slow).
    const reason = opts.builtin ? '--builtin given' : `${shortPath(opts.corpus)} not found`;
    inputs.push({ kind: 'skipped', label: 'largest corpus pkg', reason });
    for (const n of sizes) inputs.push({ kind: 'skipped', label: `synth-${sizeLabel(n)}`, reason });
    const small = sizes.filter((n) => n <= 10_000);
    for (const n of small.length ? small : [2000]) inputs.push(await builtinInput(n));
    return inputs;
  }
  inputs.push(await largestCorpusInput(opts.corpus));
  for (const n of sizes) inputs.push(await synthInput(opts.corpus, n));
  return inputs;
}

async function measureInput(input: TreeInput, repeats: number): Promise<InputResult> {
  const scratch = path.join(WORK_DIR, 'run', input.label);
  await removeTree(scratch);
  await fsp.mkdir(scratch, { recursive: true });
  const progress = (s: string) => process.stderr.write(`bench: ${input.label}: ${s}\n`);
  progress(
    `warming the page cache (${formatCount(input.files)} files, ${formatMB(input.bytes)} MB)`,
  );
  await warmRead(input.dir, input.tar);

  const runs = Object.fromEntries(OPS.map((o) => [o, [] as number[]])) as Record<Op, number[]>;
  const rss: Partial<Record<Op, number>> = {};
  const adds: Record<'addCold' | 'addWarm' | 'addTar', AddRun[]> = {
    addCold: [],
    addWarm: [],
    addTar: [],
  };
  const add = async (op: 'addCold' | 'addWarm' | 'addTar', source: string, store: string) => {
    await settle();
    const a = await pstoreAdd(source, store, { name: input.name, version: input.version });
    runs[op].push(a.ms);
    rss[op] = Math.max(rss[op] ?? 0, a.maxRssKiB);
    adds[op].push(a);
  };
  const timed = async (op: Op, fn: () => Promise<{ ms: number }>) => {
    await settle();
    const r = await fn();
    runs[op].push(r.ms);
    return r.ms;
  };

  const loads: number[] = [];
  for (let i = 1; i <= repeats; i++) {
    const t0 = Date.now();
    loads.push(os.loadavg()[0]!);
    // Outputs are removed only after the run's last timed command: freeing blocks (ext4 may
    // discard them) would otherwise land in the next command's time.
    const runDir = path.join(scratch, `run-${i}`);
    const storeDir = path.join(runDir, 'store-dir');
    const storeTar = path.join(runDir, 'store-tar');
    const xdir = path.join(runDir, 'tar-x');
    const cpdir = path.join(runDir, 'cp-a');
    await add('addCold', input.dir, storeDir);
    await add('addWarm', input.dir, storeDir);
    await add('addTar', input.tar, storeTar);
    await timed('tarExtract', () => tarExtract(input.tar, xdir));
    const sha = await timed('sha512sum', () => sha512All(input.dir));
    const cp = await timed('cpA', () => copyTree(input.dir, cpdir));
    // No settle() in between: the flush timed is exactly the data cp -a left dirty.
    const flush = (await syncFs(cpdir)).ms;
    runs.sync.push(flush);
    runs.hashCopy.push(sha + cp);
    runs.hashCopySync.push(sha + cp + flush);
    progress(
      `run ${i}/${repeats}: add cold ${formatMs(runs.addCold.at(-1)!)}, warm ${formatMs(runs.addWarm.at(-1)!)}, tar ${formatMs(runs.addTar.at(-1)!)}; ` +
        `tar -x ${formatMs(runs.tarExtract.at(-1)!)}, sha512sum ${formatMs(sha)}, cp -a ${formatMs(cp)} (+sync ${formatMs(flush)}) ` +
        `[${((Date.now() - t0) / 1000).toFixed(0)} s, load ${loads.at(-1)!.toFixed(1)}]`,
    );
    await removeTree(runDir);
    await settle();
  }
  await removeTree(scratch);

  const ops = {} as Record<Op, OpResult>;
  for (const op of OPS) {
    const ms = median(runs[op]);
    ops[op] = {
      runsMs: runs[op].map((x) => Math.round(x)),
      medianMs: ms,
      filesPerSec: input.files / (ms / 1000),
      mbPerSec: input.bytes / 1e6 / (ms / 1000),
    };
  }
  for (const op of PSTORE_OPS) {
    const o = ops[op];
    o.maxRssKiB = rss[op];
    o.vsHashCopy = ops.hashCopy.medianMs / o.medianMs;
    o.vsHashCopySync = ops.hashCopySync.medianMs / o.medianMs;
    o.vsTarExtract = ops.tarExtract.medianMs / o.medianMs;
  }

  const cold = adds.addCold[0]!.result;
  const checks = [
    {
      what: `cold add recorded ${formatCount(input.files)} files`,
      ok: adds.addCold.every((a) => a.result.files === input.files),
    },
    {
      what: 'warm add wrote 0 objects and gave the same id',
      ok: adds.addWarm.every((a) => a.result.objectsWritten === 0 && a.result.id === cold.id),
    },
    {
      what: 'tar add gave the same id as the directory',
      ok: adds.addTar.every((a) => a.result.id === cold.id),
    },
  ];
  return {
    label: input.label,
    origin: input.origin,
    files: input.files,
    bytes: input.bytes,
    dirs: input.dirs,
    symlinks: input.symlinks,
    tarBytes: input.tarBytes,
    repeats,
    ops,
    entryId: cold.id,
    objectsWritten: cold.objectsWritten,
    checks,
    loadavg: loads.map((l) => Number(l.toFixed(2))),
  };
}

const COLUMNS: Column[] = [
  { header: 'operation' },
  { header: 'wall', align: 'right' },
  { header: 'files/s', align: 'right' },
  { header: 'MB/s', align: 'right' },
  { header: 'peak RSS', align: 'right' },
  { header: 'vs hash+copy', align: 'right' },
  { header: 'vs h+c+sync', align: 'right' },
  { header: 'vs tar -x', align: 'right' },
];

function printInput(r: InputResult, log: Log): void {
  log(
    `${r.label} (${r.origin}): ${formatCount(r.files)} files, ${formatMB(r.bytes)} MB, ${formatCount(r.dirs)} dirs, ${formatCount(r.symlinks)} symlinks; ` +
      `tar ${formatMB(r.tarBytes)} MB; ${r.repeats === 1 ? '1 run' : `median of ${r.repeats} runs`}; load ${r.loadavg.map((l) => l.toFixed(1)).join('/')}`,
  );
  const rows = OPS.map((op) => {
    const o = r.ops[op];
    const rates = op === 'sync' ? ['', ''] : [formatCount(o.filesPerSec), o.mbPerSec.toFixed(0)]; // a flush, not a pass over the tree
    return [
      OP_LABEL[op],
      formatMs(o.medianMs),
      ...rates,
      formatKiB(o.maxRssKiB),
      formatRatio(o.vsHashCopy),
      formatRatio(o.vsHashCopySync),
      formatRatio(o.vsTarExtract),
    ];
  });
  log(formatTable(COLUMNS, rows));
  log(
    `entry ${r.entryId.slice(0, 12)}: ${formatCount(r.objectsWritten)} objects written by the cold add (equal contents share one)`,
  );
  log(`checks: ${r.checks.map((c) => `${c.what} ${c.ok ? 'ok' : 'FAILED'}`).join('; ')}`);
  log('');
}

interface Verdict {
  target: string;
  input: string;
  value: number;
  ok: boolean | undefined;
}

function printTargets(results: InputResult[], log: Log): Verdict[] {
  const verdicts: Verdict[] = [];
  const rows: string[][] = [];
  for (const r of results) {
    const ratio = r.ops.addCold.vsHashCopy!;
    const ratioOk = ratio >= TARGETS.minRatioToHashCopy;
    const rssMiB = Math.max(...PSTORE_OPS.map((op) => r.ops[op].maxRssKiB ?? 0)) / 1024;
    const rssOk = r.files >= TARGETS.rssTargetFiles ? rssMiB < TARGETS.maxRssMiBAt100k : undefined;
    verdicts.push({
      target: `add cold ≥ ${TARGETS.minRatioToHashCopy}× hash+copy`,
      input: r.label,
      value: ratio,
      ok: ratioOk,
    });
    verdicts.push({
      target: `peak RSS < ${TARGETS.maxRssMiBAt100k} MiB at ${formatCount(TARGETS.rssTargetFiles)} files`,
      input: r.label,
      value: rssMiB,
      ok: rssOk,
    });
    rows.push([
      r.label,
      `${formatRatio(ratio)} ${ratioOk ? 'ok' : 'MISSED'}`,
      formatRatio(r.ops.addTar.vsHashCopy),
      formatRatio(r.ops.addWarm.vsHashCopy),
      `${rssMiB.toFixed(0)} MiB${rssOk === undefined ? '' : rssOk ? ' ok' : ' MISSED'}`,
    ]);
  }
  log(
    `targets: pstore add (cold, directory) ≥ ${TARGETS.minRatioToHashCopy}× the throughput of hash + copy; peak RSS < ${TARGETS.maxRssMiBAt100k} MiB at ${formatCount(TARGETS.rssTargetFiles)}+ files`,
  );
  log(
    formatTable(
      [
        { header: 'input' },
        { header: 'add DIR cold / hash+copy', align: 'right' },
        { header: 'add TAR / hash+copy', align: 'right' },
        { header: 'add DIR warm / hash+copy', align: 'right' },
        { header: 'peak RSS (any add)', align: 'right' },
      ],
      rows,
    ),
  );
  log(
    '(ratios are throughput ratios: peer wall time / pstore wall time; > 1 means pstore is faster)',
  );
  log('');
  return verdicts;
}

/** Cold adds of the directory and of the tar with process.memoryUsage() sampled every 50 ms. */
async function traceMemory(input: TreeInput): Promise<MemorySummary[]> {
  const store = path.join(WORK_DIR, 'profiles', input.label, 'store');
  const out: MemorySummary[] = [];
  for (const [label, source] of [
    ['add DIR cold', input.dir],
    ['add TAR cold', input.tar],
  ] as const) {
    await removeTree(store);
    await settle();
    process.stderr.write(`bench: ${input.label}: tracing the memory of ${label}\n`);
    const a = await pstoreAdd(source, store, {
      name: input.name,
      version: input.version,
      memTrace: true,
    });
    out.push(summarizeMemory(label, a.ms, a.memTrace!));
  }
  await removeTree(store);
  return out;
}

function summarizeMemory(label: string, wallMs: number, trace: MemTrace): MemorySummary {
  const s = trace.samples;
  const peak = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
  let peakAt = 0;
  for (const [ms, rss, heapTotal, heapUsed, external, arrayBuffers] of s) {
    if (rss > peak.rss) {
      peak.rss = rss;
      peakAt = ms;
    }
    peak.heapTotal = Math.max(peak.heapTotal, heapTotal);
    peak.heapUsed = Math.max(peak.heapUsed, heapUsed);
    peak.external = Math.max(peak.external, external);
    peak.arrayBuffers = Math.max(peak.arrayBuffers, arrayBuffers);
  }
  const end = s.at(-1)?.[0] ?? 1;
  const curve: MemorySummary['curve'] = [];
  for (let k = 1; k <= 10; k++) {
    const t = (end * k) / 10;
    const sm = s.find((x) => x[0] >= t) ?? s.at(-1)!;
    curve.push({ at: k / 10, rss: sm[1], heapUsed: sm[3], arrayBuffers: sm[5] });
  }
  return { label, wallMs, peak, rssPeakAt: peakAt / end, curve };
}

function printMemory(input: TreeInput, mems: MemorySummary[], log: Log): void {
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)}`;
  for (const m of mems) {
    log(`memory: ${m.label} of ${input.label} (process.memoryUsage() every 50 ms; MiB)`);
    log(
      `  peaks: rss ${mib(m.peak.rss)} (at ${(m.rssPeakAt * 100).toFixed(0)}% of the run), V8 heap used ${mib(m.peak.heapUsed)} / total ${mib(m.peak.heapTotal)}, ` +
        `Buffers (arrayBuffers) ${mib(m.peak.arrayBuffers)}, external ${mib(m.peak.external)}`,
    );
    log(
      formatTable(
        [
          { header: '  at' },
          ...m.curve.map((c) => ({
            header: `${(c.at * 100).toFixed(0)}%`,
            align: 'right' as const,
          })),
        ],
        [
          ['  rss', ...m.curve.map((c) => mib(c.rss))],
          ['  heap used', ...m.curve.map((c) => mib(c.heapUsed))],
          ['  Buffers', ...m.curve.map((c) => mib(c.arrayBuffers))],
        ],
      ),
    );
    log('');
  }
}

/** Cold adds of the directory and of the tar under --cpu-prof (untimed: profiling slows them). */
async function profileInput(input: TreeInput): Promise<Record<string, ProfileSummary>> {
  const dir = path.join(WORK_DIR, 'profiles', input.label);
  const store = path.join(dir, 'store');
  const out: Record<string, ProfileSummary> = {};
  for (const [label, source] of [
    ['add DIR cold', input.dir],
    ['add TAR cold', input.tar],
  ] as const) {
    const profDir = path.join(dir, label.replace(/\W+/g, '-'));
    await removeTree(profDir);
    await removeTree(store);
    await settle();
    process.stderr.write(`bench: ${input.label}: profiling ${label}\n`);
    await pstoreAdd(source, store, {
      name: input.name,
      version: input.version,
      cpuProfileDir: profDir,
    });
    const file = (await fsp.readdir(profDir)).find((f) => f.endsWith('.cpuprofile'));
    if (file) out[label] = await summarizeProfile(path.join(profDir, file));
  }
  await removeTree(store);
  return out;
}

function printProfile(input: TreeInput, profiles: Record<string, ProfileSummary>, log: Log): void {
  for (const [label, p] of Object.entries(profiles)) {
    const busy = p.wallMs - p.idleMs;
    log(
      `profile: ${label} of ${input.label} (node --cpu-prof; .cpuprofile files in ${shortPath(path.join(WORK_DIR, 'profiles', input.label))})`,
    );
    log(
      `  main thread: ${formatMs(p.wallMs)} profiled, ${formatMs(busy)} busy (${((busy / p.wallMs) * 100).toFixed(0)}%), ` +
        `${formatMs(p.idleMs)} idle (waiting for the thread pool, the disk, child processes), ${formatMs(p.gcMs)} in GC`,
    );
    log(
      `  busy by source: ${p.bySource
        .slice(0, 7)
        .map((s) => `${s.source} ${formatMs(s.selfMs)}`)
        .join(', ')}`,
    );
    log(
      formatTable(
        [
          { header: '  function' },
          { header: 'self', align: 'right' },
          { header: 'incl.', align: 'right' },
          { header: 'where' },
        ],
        p.top.map((t) => [`  ${t.fn}`, formatMs(t.selfMs), formatMs(t.totalMs), t.where]),
      ),
    );
    log('');
  }
}
