// Activation benchmark (issue 3): for generated 1k/10k/100k-file trees ingested into a store
// (untimed), time
//   - `pstore activate X --prefix P --link hardlink` into an empty inplace prefix, beside `cp -al`
//     of the same tree (target: pstore within 2× of cp -al), `cp -al` + `sync -f` (pstore flushes
//     twice, cp -al never) and `cp -a` for context;
//   - activating the same entry again (a no-op);
//   - `--layout generations`: the first activation (build tree 1 + switch), one more small package
//     (build tree 2 in full + switch), and the switch back and forth (`pstore rollback --to N`):
//     target under 20 ms at any size. A CLI process costs node's startup and pstore's imports
//     before any work, so rollback is also timed in-process through the library
//     (`openStore().prefix(dir).rollback()` in a child that has imported dist/lib/index.js, after a
//     warm-up round; median), beside `node -e 0` and `pstore --version`;
//   - the same small-package upgrade and rollbacks in the inplace prefix, for comparison;
//   - `pstore status` (CLI and in-process; target under 100 ms at 100k files);
//   - peak RSS of every pstore process (max-rss.mjs), the 100k activation's in particular.
//
// Method: trees come from the corpus's synth.sh (the built-in generator without the corpus),
// cached under .bench-work/; `sync` runs untimed before each timed command, outputs are removed
// only after the last timed command of a size; median of N runs (3 at ≤ 10k files, 1 above,
// --repeats overrides). Checks: file/dir/symlink counts of every activated prefix equal the tree's,
// the link method is hardlink, the second activation is a no-op, every rollback lands on the
// generation asked for.

import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from './_lib/exec.js';
import { inprocess, type InprocResult } from './_lib/inproc.js';
import {
  builtinInput,
  synthInput,
  treeStats,
  type Input,
  type TreeInput,
  type TreeStats,
} from './_lib/inputs.js';
import { WORK_DIR, requireBuiltCli, shortPath } from './_lib/paths.js';
import { copyTree, removeTree, settle, syncFs } from './_lib/peers.js';
import { summarizeProfile, type ProfileSummary } from './_lib/profile.js';
import { pstoreCli, type CliRun } from './_lib/pstore.js';
import {
  distChanged,
  distFingerprint,
  loadString,
  printHeader,
  stdoutLog,
  type Log,
  type SizedBenchOptions,
  writeResults,
} from './_lib/report.js';
import { measureStartup, type StartupResult } from './_lib/startup.js';
import { formatTable, type Column } from './_lib/table.js';
import { formatCount, formatKiB, formatMB, formatMs, formatRatio, median } from './_lib/timing.js';

/** `profile`: CPU-profile the largest size's activation, generations rollback and status. */
export type ActivateBenchOptions = SizedBenchOptions;

export const TARGETS = {
  /** pstore activate (inplace, hardlink) wall time over cp -al wall time */
  maxTimeRatioToCpAl: 2,
  /** generations switch (rollback), in-process, ms, at any size */
  maxGenerationsRollbackMs: 20,
  /** status, ms, at statusFiles */
  maxStatusMs: 100,
  statusFiles: 100_000,
};

const OPS = [
  'activate',
  'cpAl',
  'cpAlSync',
  'cpA',
  'noop',
  'genActivate',
  'genAddSmall',
  'genRollbackCli',
  'genRollbackLib',
  'inplaceAddSmall',
  'inplaceRollbackCli',
  'inplaceRollbackLib',
  'statusCli',
  'statusLib',
] as const;
type Op = (typeof OPS)[number];

const OP_LABEL: Record<Op, string> = {
  activate: 'pstore activate X   (inplace, hardlink, empty prefix)',
  cpAl: 'cp -al TREE DEST',
  cpAlSync: 'cp -al + sync -f',
  cpA: 'cp -a TREE DEST',
  noop: 'pstore activate X again (no-op)',
  genActivate: 'generations: activate X (build tree 1 + switch)',
  genAddSmall: 'generations: activate +1 small pkg (build tree 2 + switch)',
  genRollbackCli: 'generations: pstore rollback --to N (CLI)',
  genRollbackLib: 'generations: prefix.rollback() in-process',
  inplaceAddSmall: 'inplace: activate +1 small pkg',
  inplaceRollbackCli: 'inplace: pstore rollback --to N (CLI)',
  inplaceRollbackLib: 'inplace: prefix.rollback() in-process',
  statusCli: 'pstore status (CLI)',
  statusLib: 'prefix.status() in-process',
};

/** rows whose time is compared with cp -al */
const VS_CP_AL: readonly Op[] = [
  'activate',
  'cpAlSync',
  'cpA',
  'genActivate',
  'genAddSmall',
  'inplaceAddSmall',
];

interface OpResult {
  runsMs: number[];
  medianMs: number;
  maxRssKiB?: number;
  /** time ratio to cp -al (> 1: slower than cp -al) */
  vsCpAl?: number;
}

interface InputResult {
  label: string;
  origin: string;
  files: number;
  bytes: number;
  dirs: number;
  symlinks: number;
  repeats: number;
  ops: Partial<Record<Op, OpResult>>;
  entryId: string;
  /** first import of dist/lib/index.js in the in-process children, ms */
  libImportMs: number[];
  checks: Array<{ what: string; ok: boolean }>;
  loadavg: { start: string; end: string };
  wallSeconds: number;
  profile?: Record<string, ProfileSummary>;
}

const SMALL_PKG = { name: 'benchextra', version: '1.0' };

export async function runActivateBench(opts: ActivateBenchOptions): Promise<{ ok: boolean }> {
  requireBuiltCli();
  const started = new Date();
  const log = stdoutLog;
  const rev = await printHeader('activate', started, log);
  const distBefore = await distFingerprint();

  const startup = await measureStartup();
  log(
    `startup: node -e 0 ${formatMs(startup.nodeMedianMs)}, pstore --version ${formatMs(startup.cliVersionMedianMs)} ` +
      `(node + the CLI's imports; median of ${startup.nodeMs.length}); every CLI row below pays at least this`,
  );
  log('');

  const inputs = await chooseInputs(opts);
  const small = await smallPackage();
  const results: InputResult[] = [];
  const skipped: Array<{ label: string; reason: string }> = [];
  const largest = inputs
    .filter((i): i is TreeInput => i.kind === 'tree')
    .sort((a, b) => b.files - a.files)[0];
  for (const input of inputs) {
    if (input.kind === 'skipped') {
      log(`${input.label}: skipped: ${input.reason}`);
      log('');
      skipped.push({ label: input.label, reason: input.reason });
      continue;
    }
    const repeats = opts.repeats ?? (input.files <= 10_000 ? 3 : 1);
    const r = await measureInput(input, small, repeats, opts.profile && input === largest);
    results.push(r);
    printInput(r, startup, log);
  }

  const verdicts = printTargets(results, startup, log);
  const distWarning = distChanged(distBefore, await distFingerprint(), log);
  await writeResults(
    'activate',
    started,
    rev,
    {
      units: {
        ms: 'wall milliseconds: spawn to exit for commands, performance.now() around the call in-process',
        maxRssKiB: 'KiB',
        vsCpAl: 'wall time ÷ cp -al wall time',
      },
      targets: TARGETS,
      dist: distBefore,
      ...(distWarning ? { distWarning } : {}),
      startup,
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

async function chooseInputs(opts: ActivateBenchOptions): Promise<Input[]> {
  const sizes = [...opts.sizes].sort((a, b) => a - b);
  const corpusMissing = !(await fsp.stat(opts.corpus).then(
    (s) => s.isDirectory(),
    () => false,
  ));
  const inputs: Input[] = [];
  if (opts.builtin || corpusMissing) {
    process.stderr.write(
      `bench: activate: ${opts.builtin ? '--builtin given' : `${shortPath(opts.corpus)} not found`}: using the built-in tree generator\n`,
    );
    for (const n of sizes) inputs.push(await builtinInput(n));
  } else {
    for (const n of sizes) inputs.push(await synthInput(opts.corpus, n));
  }
  return inputs;
}

/** A small second package (a module and a dist-info) to make a second generation with. */
async function smallPackage(): Promise<{ dir: string; files: number }> {
  const dir = path.join(WORK_DIR, 'activate-small', `${SMALL_PKG.name}-${SMALL_PKG.version}`);
  const sp = path.join(dir, 'usr/lib/python3/dist-packages');
  const files: Record<string, string> = {
    'benchextra/__init__.py':
      '"""A small package the activation benchmark adds as a second generation."""\n__version__ = "1.0"\n',
    'benchextra/core.py': 'def answer():\n    return 42\n',
    'benchextra-1.0.dist-info/METADATA': 'Metadata-Version: 2.1\nName: benchextra\nVersion: 1.0\n',
    'benchextra-1.0.dist-info/top_level.txt': 'benchextra\n',
  };
  files['benchextra-1.0.dist-info/RECORD'] = `${Object.keys(files)
    .map((f) => `${f},,`)
    .join('\n')}\nbenchextra-1.0.dist-info/RECORD,,\n`;
  await removeTree(dir);
  for (const [rel, text] of Object.entries(files)) {
    await fsp.mkdir(path.dirname(path.join(sp, rel)), { recursive: true });
    await fsp.writeFile(path.join(sp, rel), text);
  }
  return { dir, files: Object.keys(files).length };
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const notPstore = (name: string) => name.startsWith('.pstore');

function sameShape(a: TreeStats, b: TreeStats): boolean {
  return (
    a.files === b.files && a.dirs === b.dirs && a.symlinks === b.symlinks && a.bytes === b.bytes
  );
}

function shape(s: TreeStats): string {
  return `${formatCount(s.files)} files, ${formatCount(s.dirs)} dirs, ${formatCount(s.symlinks)} symlinks`;
}

async function measureInput(
  input: TreeInput,
  small: { dir: string; files: number },
  repeats: number,
  profile: boolean,
): Promise<InputResult> {
  const t0 = Date.now();
  const loadStart = loadString();
  const scratch = path.join(WORK_DIR, 'run', `activate-${input.label}`);
  await removeTree(scratch);
  await fsp.mkdir(scratch, { recursive: true });
  const store = path.join(scratch, 'store');
  const progress = (s: string) =>
    process.stderr.write(
      `bench: activate ${input.label}: ${s} [${((Date.now() - t0) / 1000).toFixed(0)} s, load ${os.loadavg()[0]!.toFixed(1)}]\n`,
    );
  const S = ['--store', store];
  const checks: InputResult['checks'] = [];
  const check = (what: string, ok: boolean) => {
    checks.push({ what, ok });
    if (!ok) process.stderr.write(`bench: activate ${input.label}: CHECK FAILED: ${what}\n`);
  };

  progress(
    `adding the tree to a new store (untimed; ${formatCount(input.files)} files, ${formatMB(input.bytes)} MB)`,
  );
  const added = JSON.parse(
    (
      await pstoreCli(
        ['add', input.dir, '--name', input.name, '--version', input.version, '--json', ...S],
        { maxRss: false },
      )
    ).stdout,
  ) as { id: string };
  await pstoreCli(
    ['add', small.dir, '--name', SMALL_PKG.name, '--version', SMALL_PKG.version, '--quiet', ...S],
    { maxRss: false },
  );
  const X = `${input.name}@${input.version}`;
  const SMALL = `${SMALL_PKG.name}@${SMALL_PKG.version}`;

  const runs = Object.fromEntries(OPS.map((o) => [o, [] as number[]])) as Record<Op, number[]>;
  const rss: Partial<Record<Op, number>> = {};
  /** a pstore command, timed (after a settle), its peak RSS kept; returns its --json result */
  const pstore = async <T>(op: Op, args: string[]): Promise<T> => {
    await settle();
    const r: CliRun = await pstoreCli([...args, '--json', ...S]);
    runs[op].push(r.ms);
    rss[op] = Math.max(rss[op] ?? 0, r.maxRssKiB ?? 0);
    return JSON.parse(r.stdout) as T;
  };
  const timed = async (op: Op, fn: () => Promise<{ ms: number }>) => {
    await settle();
    const r = await fn();
    runs[op].push(r.ms);
    return r.ms;
  };
  type Txn = { generation: number; previousGeneration: number; noop: boolean; link: string };

  // 1. Inplace activation into an empty prefix, beside cp -al / cp -a of the same tree.
  const prefixes: string[] = [];
  for (let i = 1; i <= repeats; i++) {
    const P = path.join(scratch, `inplace-${i}`);
    prefixes.push(P);
    const a = await pstore<Txn>('activate', ['activate', X, '--prefix', P, '--link', 'hardlink']);
    if (i === 1)
      check(
        'activation linked with hardlink, generation 1',
        a.link === 'hardlink' && a.generation === 1 && !a.noop,
      );
    const cpal = path.join(scratch, `cp-al-${i}`);
    const cpMs = await timed('cpAl', () => run('cp', ['-al', input.dir, cpal]));
    runs.cpAlSync.push(cpMs + (await syncFs(cpal)).ms); // no settle between: the flush of what cp -al left
    await timed('cpA', () => copyTree(input.dir, path.join(scratch, `cp-a-${i}`)));
    const again = await pstore<Txn>('noop', ['activate', X, '--prefix', P, '--link', 'hardlink']);
    if (i === 1)
      check(
        'activating the same entry again is a no-op (generation stays 1)',
        again.noop && again.generation === 1,
      );
    progress(
      `run ${i}/${repeats}: activate ${formatMs(runs.activate.at(-1)!)} (${formatKiB(rss.activate)}), cp -al ${formatMs(cpMs)} ` +
        `(+sync ${formatMs(runs.cpAlSync.at(-1)! - cpMs)}), cp -a ${formatMs(runs.cpA.at(-1)!)}, no-op ${formatMs(runs.noop.at(-1)!)}`,
    );
  }
  const want = {
    files: input.files,
    dirs: input.dirs,
    symlinks: input.symlinks,
    bytes: input.bytes,
  };
  const got = await treeStats(prefixes[0]!, notPstore);
  check(`inplace prefix has the tree's ${shape(want)} (got ${shape(got)})`, sameShape(got, want));
  const cpalStats = await treeStats(path.join(scratch, 'cp-al-1'));
  check('cp -al copy has the same counts', sameShape(cpalStats, want));
  for (let i = 1; i <= repeats; i++) {
    await removeTree(path.join(scratch, `cp-al-${i}`));
    await removeTree(path.join(scratch, `cp-a-${i}`));
    if (i > 1) await removeTree(prefixes[i - 1]!);
  }
  const P = prefixes[0]!;

  // 2. Status of the inplace prefix (one package, all the tree's files).
  const big = input.files > 10_000;
  for (let i = 0; i < 7; i++) {
    const r = await pstoreCli(['status', '--prefix', P, '--json', ...S], { maxRss: false });
    runs.statusCli.push(r.ms);
    if (i === 0) {
      const s = JSON.parse(r.stdout) as { generation: number; packages: unknown[] };
      check(
        'status reports generation 1 with 1 package',
        s.generation === 1 && s.packages.length === 1,
      );
    }
  }
  const libImportMs: number[] = [];
  const lib = async (op: Op, spec: Parameters<typeof inprocess>[0]): Promise<InprocResult> => {
    await settle();
    const r = await inprocess(spec);
    runs[op].push(...r.runsMs);
    libImportMs.push(round1(r.importMs));
    for (const p of r.problems) check(`${OP_LABEL[op]}: ${p}`, false);
    return r;
  };
  await lib('statusLib', { op: 'status', store, prefix: P, runs: 15 });
  progress(
    `status: CLI ${formatMs(median(runs.statusCli))}, in-process ${median(runs.statusLib).toFixed(1)} ms`,
  );

  // 3. Generations: build tree 1, add a small package (tree 2), switch back and forth.
  const G = path.join(scratch, 'gen');
  const g1 = await pstore<Txn>('genActivate', [
    'activate',
    X,
    '--prefix',
    G,
    '--layout',
    'generations',
    '--link',
    'hardlink',
  ]);
  const gstats = await treeStats(G);
  check(
    `generations prefix has the tree's ${shape(want)} (got ${shape(gstats)})`,
    sameShape(gstats, want) && g1.generation === 1,
  );
  const g2 = await pstore<Txn>('genAddSmall', [
    'activate',
    SMALL,
    '--prefix',
    G,
    '--link',
    'hardlink',
  ]);
  check('generations: the small package made generation 2', g2.generation === 2 && !g2.noop);
  progress(
    `generations: activate ${formatMs(runs.genActivate[0]!)}, +1 small pkg ${formatMs(runs.genAddSmall[0]!)}`,
  );
  await rollbacks('genRollbackCli', G, big ? 4 : 6);
  const genLib = await lib('genRollbackLib', {
    op: 'rollback',
    store,
    prefix: G,
    gens: [1, 2],
    runs: big ? 3 : 11,
  });
  check('generations: in-process rollbacks ended on generation 2', genLib.generation === 2);
  progress(
    `generations rollback: CLI ${formatMs(median(runs.genRollbackCli))}, in-process ${median(runs.genRollbackLib).toFixed(1)} ms`,
  );

  // 4. The same small upgrade and rollbacks in the inplace prefix.
  const i2 = await pstore<Txn>('inplaceAddSmall', [
    'activate',
    SMALL,
    '--prefix',
    P,
    '--link',
    'hardlink',
  ]);
  check('inplace: the small package made generation 2', i2.generation === 2 && !i2.noop);
  await rollbacks('inplaceRollbackCli', P, big ? 2 : 6);
  const inLib = await lib('inplaceRollbackLib', {
    op: 'rollback',
    store,
    prefix: P,
    gens: [1, 2],
    runs: big ? 1 : 7,
  });
  check('inplace: in-process rollbacks ended on generation 2', inLib.generation === 2);
  const after = await treeStats(P, notPstore);
  check(
    'inplace: after the rollbacks the prefix has the tree plus the small package',
    after.files === input.files + small.files && after.symlinks === input.symlinks,
  );
  progress(
    `inplace: +1 small pkg ${formatMs(runs.inplaceAddSmall[0]!)}, rollback CLI ${formatMs(median(runs.inplaceRollbackCli))}, in-process ${formatMs(median(runs.inplaceRollbackLib))}`,
  );

  async function rollbacks(op: Op, dir: string, n: number): Promise<void> {
    // The prefix is at generation 2: go to 1, back to 2, ... and end at 2.
    let okAll = true;
    for (let k = 0; k < n; k++) {
      const to = k % 2 === 0 ? 1 : 2;
      const r = await pstore<Txn>(op, ['rollback', '--prefix', dir, '--to', String(to)]);
      okAll &&= r.generation === to && r.previousGeneration === 3 - to && !r.noop;
    }
    check(`${OP_LABEL[op]}: every rollback switched to the generation asked for`, okAll);
  }

  let profiles: Record<string, ProfileSummary> | undefined;
  if (profile) profiles = await profileInput(input, scratch, store, X, G, P);

  const ops: Partial<Record<Op, OpResult>> = {};
  const cpAl = median(runs.cpAl);
  for (const op of OPS) {
    if (!runs[op].length) continue;
    const ms = median(runs[op]);
    ops[op] = { runsMs: runs[op].map(round1), medianMs: ms };
    if (rss[op]) ops[op].maxRssKiB = rss[op];
    if (VS_CP_AL.includes(op)) ops[op].vsCpAl = ms / cpAl;
  }
  progress('removing the outputs');
  await removeTree(scratch);
  return {
    label: input.label,
    origin: input.origin,
    files: input.files,
    bytes: input.bytes,
    dirs: input.dirs,
    symlinks: input.symlinks,
    repeats,
    ops,
    entryId: added.id,
    libImportMs,
    checks,
    loadavg: { start: loadStart, end: loadString() },
    wallSeconds: Math.round((Date.now() - t0) / 1000),
    ...(profiles ? { profile: profiles } : {}),
  };
}

/** CPU profiles: the CLI activation (new prefix), the in-process generations switch and status. */
async function profileInput(
  input: TreeInput,
  scratch: string,
  store: string,
  X: string,
  G: string,
  P: string,
): Promise<Record<string, ProfileSummary>> {
  const dir = path.join(WORK_DIR, 'profiles', `activate-${input.label}`);
  await removeTree(dir);
  await fsp.mkdir(dir, { recursive: true });
  const out: Record<string, ProfileSummary> = {};
  process.stderr.write(`bench: activate ${input.label}: profiling (untimed)\n`);
  const cli = async (label: string, args: string[]) => {
    const d = path.join(dir, label.replace(/\W+/g, '-'));
    await settle();
    await pstoreCli([...args, '--store', store, '--quiet'], { maxRss: false, cpuProfileDir: d });
    const f = (await fsp.readdir(d)).find((x) => x.endsWith('.cpuprofile'));
    if (f) out[label] = await summarizeProfile(path.join(d, f));
  };
  await cli('CLI activate (inplace, new prefix)', [
    'activate',
    X,
    '--prefix',
    path.join(scratch, 'inplace-prof'),
    '--link',
    'hardlink',
  ]);
  await cli('CLI rollback (generations)', ['rollback', '--prefix', G, '--to', '1']);
  await cli('CLI rollback (generations) back', ['rollback', '--prefix', G, '--to', '2']);
  delete out['CLI rollback (generations) back'];
  const lib = async (label: string, spec: Parameters<typeof inprocess>[0]) => {
    const file = path.join(dir, `${label.replace(/\W+/g, '-')}.cpuprofile`);
    await settle();
    await inprocess({ ...spec, cpuProfile: file });
    out[label] = await summarizeProfile(file);
  };
  await lib('in-process rollback (generations)', {
    op: 'rollback',
    store,
    prefix: G,
    gens: [1, 2],
    runs: 3,
  });
  await lib('in-process status', { op: 'status', store, prefix: P, runs: 20 });
  return out;
}

const COLUMNS: Column[] = [
  { header: 'operation' },
  { header: 'wall', align: 'right' },
  { header: 'runs', align: 'right' },
  { header: 'files/s', align: 'right' },
  { header: 'peak RSS', align: 'right' },
  { header: 'time ÷ cp -al', align: 'right' },
];

const IN_PROCESS: readonly Op[] = ['genRollbackLib', 'inplaceRollbackLib', 'statusLib'];
const PER_FILE: readonly Op[] = [
  'activate',
  'cpAl',
  'cpAlSync',
  'cpA',
  'genActivate',
  'genAddSmall',
];

function fmtWall(op: Op, ms: number): string {
  return IN_PROCESS.includes(op) && ms < 1000 ? `${ms.toFixed(ms < 10 ? 2 : 1)} ms` : formatMs(ms);
}

function printInput(r: InputResult, startup: StartupResult, log: Log): void {
  log(
    `${r.label} (${r.origin}): ${formatCount(r.files)} files, ${formatMB(r.bytes)} MB, ${formatCount(r.dirs)} dirs, ${formatCount(r.symlinks)} symlinks; ` +
      `activation and cp: ${r.repeats === 1 ? '1 run' : `median of ${r.repeats} runs`}; load ${r.loadavg.start} → ${r.loadavg.end}; ${r.wallSeconds} s`,
  );
  const rows: string[][] = [];
  for (const op of OPS) {
    const o = r.ops[op];
    if (!o) continue;
    rows.push([
      OP_LABEL[op],
      fmtWall(op, o.medianMs),
      String(o.runsMs.length),
      PER_FILE.includes(op) ? formatCount(r.files / (o.medianMs / 1000)) : '',
      formatKiB(o.maxRssKiB),
      op === 'cpAl' ? '1.00×' : formatRatio(o.vsCpAl),
    ]);
  }
  log(formatTable(COLUMNS, rows));
  log(
    `(CLI rows: spawn to exit, including node startup ${formatMs(startup.nodeMedianMs)} and the CLI's imports, pstore --version ${formatMs(startup.cliVersionMedianMs)}; ` +
      `in-process rows: performance.now() around the library call, median; first import of dist/lib/index.js there: ${formatMs(median(r.libImportMs))})`,
  );
  log(`checks: ${r.checks.map((c) => `${c.what} ${c.ok ? 'ok' : 'FAILED'}`).join('; ')}`);
  log('');
  if (r.profile) printProfiles(r, log);
}

function printProfiles(r: InputResult, log: Log): void {
  for (const [label, p] of Object.entries(r.profile ?? {})) {
    const busy = p.wallMs - p.idleMs;
    log(
      `profile: ${label}, ${r.label} (.cpuprofile files in ${shortPath(path.join(WORK_DIR, 'profiles', `activate-${r.label}`))})`,
    );
    log(
      `  ${formatMs(p.wallMs)} profiled, ${formatMs(busy)} busy on the main thread, ${formatMs(p.idleMs)} idle (waiting for I/O), ${formatMs(p.gcMs)} in GC`,
    );
    log(
      `  busy by source: ${p.bySource
        .slice(0, 6)
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
        p.top
          .slice(0, 12)
          .map((t) => [`  ${t.fn.slice(0, 60)}`, formatMs(t.selfMs), formatMs(t.totalMs), t.where]),
      ),
    );
    log('');
  }
}

interface Verdict {
  target: string;
  input: string;
  value: number;
  ok: boolean | undefined;
}

function printTargets(results: InputResult[], startup: StartupResult, log: Log): Verdict[] {
  const verdicts: Verdict[] = [];
  const mark = (ok: boolean | undefined) => (ok === undefined ? '' : ok ? ' ok' : ' MISSED');
  const rows: string[][] = [];
  for (const r of results) {
    const ratio = r.ops.activate!.vsCpAl!;
    const ratioOk = ratio <= TARGETS.maxTimeRatioToCpAl;
    const rb = r.ops.genRollbackLib!.medianMs;
    const rbOk = rb < TARGETS.maxGenerationsRollbackMs;
    const st = r.ops.statusLib!.medianMs;
    const stOk = r.files >= TARGETS.statusFiles ? st < TARGETS.maxStatusMs : undefined;
    const stCli = r.ops.statusCli!.medianMs;
    const stCliOk = r.files >= TARGETS.statusFiles ? stCli < TARGETS.maxStatusMs : undefined;
    verdicts.push({
      target: `activate ≤ ${TARGETS.maxTimeRatioToCpAl}× cp -al (time)`,
      input: r.label,
      value: ratio,
      ok: ratioOk,
    });
    verdicts.push({
      target: `generations rollback < ${TARGETS.maxGenerationsRollbackMs} ms (in-process)`,
      input: r.label,
      value: rb,
      ok: rbOk,
    });
    verdicts.push({
      target: `status < ${TARGETS.maxStatusMs} ms (in-process) at ${formatCount(TARGETS.statusFiles)} files`,
      input: r.label,
      value: st,
      ok: stOk,
    });
    verdicts.push({
      target: `status < ${TARGETS.maxStatusMs} ms (CLI wall) at ${formatCount(TARGETS.statusFiles)} files`,
      input: r.label,
      value: stCli,
      ok: stCliOk,
    });
    rows.push([
      r.label,
      `${formatRatio(ratio)}${mark(ratioOk)}`,
      `${rb.toFixed(1)} ms${mark(rbOk)}`,
      `${formatMs(r.ops.genRollbackCli!.medianMs)} (${formatMs(r.ops.genRollbackCli!.medianMs - startup.cliVersionMedianMs)})`,
      `${st.toFixed(1)} ms${mark(stOk)}`,
      `${formatMs(stCli)} (${formatMs(stCli - startup.cliVersionMedianMs)})${mark(stCliOk)}`,
      formatKiB(r.ops.activate!.maxRssKiB),
    ]);
  }
  log(
    `targets: activate (inplace, hardlink) ≤ ${TARGETS.maxTimeRatioToCpAl}× the time of cp -al; generations switch (rollback) < ${TARGETS.maxGenerationsRollbackMs} ms at any size; ` +
      `status < ${TARGETS.maxStatusMs} ms at ${formatCount(TARGETS.statusFiles)} files`,
  );
  log(
    formatTable(
      [
        { header: 'input' },
        { header: 'activate ÷ cp -al', align: 'right' },
        { header: 'gen. rollback in-process', align: 'right' },
        { header: 'gen. rollback CLI (− startup)', align: 'right' },
        { header: 'status in-process', align: 'right' },
        { header: 'status CLI (− startup)', align: 'right' },
        { header: 'activate peak RSS', align: 'right' },
      ],
      rows,
    ),
  );
  log(
    `(− startup: minus pstore --version, ${formatMs(startup.cliVersionMedianMs)}: node's startup ${formatMs(startup.nodeMedianMs)} plus the CLI's imports)`,
  );
  log('');
  return verdicts;
}
