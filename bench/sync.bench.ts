// Sync benchmark (issue 4), on the real corpus (../shared/corpus, unpacked by its prepare.sh):
// a store with every corpus package (`pstore add` of each tree), all activated into one prefix and
// locked (`pstore lock -o LOCK`), all untimed. Then, timed:
//   - `pstore sync LOCK --prefix FRESH` (cold: a new prefix) and the same again (a no-op),
//     beside `cp -al` of every corpus tree merged into one directory (`cp -al T1/. T2/. ... DEST/`,
//     one process) and `cp -al` + `sync -f`;
//   - `pip install --no-deps --no-index --ignore-installed --prefix DEST` of the corpus's real
//     wheels (pip, setuptools, wheel; with and without bytecode compilation), beside pstore
//     doing the same job from the Debian trees of those three packages: `pstore add` of each into a
//     new store plus one `activate` into a new prefix (and the activation alone, from a store that
//     has them);
//   - `pstore export --lock LOCK` and `pstore import` of the bundle into a new store (MB/s of the
//     bundle), and import + sync as a CI job runs them.
//
// pip runs with --ignore-installed, so it never uninstalls the interpreter's own pip or setuptools
// (with --prefix alone it does: pip treats them as the installed versions to replace), with no
// config files and no $PIP_FIND_LINKS. Method as in the other benchmarks: `sync` (untimed) before
// each timed command, outputs removed after the last command of a run, median of N runs (5;
// --repeats overrides).

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { have, run } from './_lib/exec.js';
import { prepareCorpus, treeStats, type CorpusPackage } from './_lib/inputs.js';
import { WORK_DIR, requireBuiltCli, shortPath } from './_lib/paths.js';
import { removeTree, settle, syncFs } from './_lib/peers.js';
import { summarizeProfile, type ProfileSummary } from './_lib/profile.js';
import { pstoreCli } from './_lib/pstore.js';
import {
  distChanged,
  distFingerprint,
  loadString,
  printHeader,
  stdoutLog,
  writeResults,
  type Log,
} from './_lib/report.js';
import { formatTable, type Column } from './_lib/table.js';
import { measureStartup } from './_lib/startup.js';
import { formatCount, formatKiB, formatMB, formatMs, formatRatio, median } from './_lib/timing.js';

export interface SyncBenchOptions {
  /** runs; default 5 */
  repeats?: number;
  corpus: string;
  /** CPU-profile one cold sync */
  profile: boolean;
  check: boolean;
}

/** The Debian packages whose wheels prepare.sh extracts, for the pip comparison. */
const WHEEL_PACKAGES = ['python3-pip', 'python3-setuptools', 'python3-wheel'];

const OPS = [
  'syncCold',
  'syncNoop',
  'cpAl',
  'cpAlSync',
  'pipNoCompile',
  'pipCompile',
  'addActivate3',
  'add3',
  'activate3New',
  'activate3',
  'export',
  'import',
  'importSync',
  'nodeStart',
  'cliStart',
  'pipStart',
] as const;
type Op = (typeof OPS)[number];

const OP_LABEL: Record<Op, string> = {
  syncCold: 'pstore sync LOCK --prefix FRESH (cold)',
  syncNoop: 'pstore sync LOCK again (no-op)',
  cpAl: 'cp -al TREE/. ... DEST/ (all trees, merged)',
  cpAlSync: 'cp -al + sync -f',
  pipNoCompile: 'pip install --no-compile 3 wheels',
  pipCompile: 'pip install 3 wheels (compiles .pyc)',
  addActivate3: 'pstore add ×3 + activate (new store, new prefix)',
  add3: '  of which pstore add ×3 (new store)',
  activate3New: '  of which pstore activate (3 pkgs)',
  activate3: 'pstore activate 3 pkgs (store has them)',
  export: 'pstore export --lock LOCK',
  import: 'pstore import BUNDLE (new store)',
  importSync: 'pstore import + sync (new store and prefix)',
  nodeStart: 'node -e 0',
  cliStart: 'pstore --version (node + CLI imports)',
  pipStart: 'python3 -m pip --version',
};

/** Which row each row is compared with, and the label of that ratio. */
const BASELINE: Partial<Record<Op, Op>> = {
  syncCold: 'cpAl',
  syncNoop: 'cpAl',
  cpAlSync: 'cpAl',
  pipCompile: 'pipNoCompile',
  addActivate3: 'pipNoCompile',
  add3: 'pipNoCompile',
  activate3New: 'pipNoCompile',
  activate3: 'pipNoCompile',
};

interface OpResult {
  runsMs: number[];
  medianMs: number;
  maxRssKiB?: number;
  /** files the operation put in place (for rates) */
  files?: number;
  /** bytes it moved (bundle size, for export and import) */
  bytes?: number;
  /** time ÷ the baseline's time */
  ratio?: number;
  baseline?: Op;
}

interface SyncResult {
  packages: Array<{ name: string; version: string; id: string; files: number }>;
  files: number;
  bytes: number;
  wheels: string[];
  repeats: number;
  link: string;
  bundleBytes: number;
  pipFiles: { noCompile: number; compile: number } | undefined;
  ops: Partial<Record<Op, OpResult>>;
  checks: Array<{ what: string; ok: boolean }>;
  skippedRows: Array<{ rows: string; reason: string }>;
  loadavg: { start: string; end: string };
  wallSeconds: number;
  profile?: Record<string, ProfileSummary>;
}

export async function runSyncBench(opts: SyncBenchOptions): Promise<{ ok: boolean }> {
  requireBuiltCli();
  const started = new Date();
  const log = stdoutLog;
  const rev = await printHeader('sync', started, log);
  const distBefore = await distFingerprint();
  const write = (body: object) =>
    writeResults(
      'sync',
      started,
      rev,
      {
        units: {
          ms: 'wall milliseconds, spawn to exit',
          maxRssKiB: 'KiB',
          ratio: "wall time ÷ the baseline row's wall time",
          mbPerSec: '10^6 bytes of bundle per second',
        },
        ...body,
      },
      log,
    );

  const prepared = await prepareCorpus(opts.corpus);
  if (prepared.kind === 'skipped') {
    log(
      `every row skipped: ${prepared.reason} (the sync benchmark needs the real corpus; see ../shared/corpus/README.md)`,
    );
    log('');
    await write({ skipped: [{ label: 'all rows', reason: prepared.reason }] });
    return { ok: true };
  }
  const r = await measure(prepared.packages, prepared.wheels, opts.repeats ?? 5, opts.profile);
  printResult(r, log);
  const distWarning = distChanged(distBefore, await distFingerprint(), log);
  await write({ dist: distBefore, ...(distWarning ? { distWarning } : {}), result: r });
  return { ok: r.checks.every((c) => c.ok) || !opts.check };
}

type Txn = { generation: number; noop: boolean; link: string; activated: unknown[] };

async function measure(
  pkgs: CorpusPackage[],
  wheels: string[],
  repeats: number,
  profile: boolean,
): Promise<SyncResult> {
  const t0 = Date.now();
  const loadStart = loadString();
  const progress = (s: string) =>
    process.stderr.write(
      `bench: sync: ${s} [${((Date.now() - t0) / 1000).toFixed(0)} s, load ${loadString().split('/')[0]}]\n`,
    );
  const scratch = path.join(WORK_DIR, 'run', 'sync');
  await removeTree(scratch);
  await fsp.mkdir(scratch, { recursive: true });
  const store = path.join(scratch, 'store');
  const lockFile = path.join(scratch, 'pstore.lock');
  const checks: SyncResult['checks'] = [];
  const check = (what: string, ok: boolean) => {
    checks.push({ what, ok });
    if (!ok) process.stderr.write(`bench: sync: CHECK FAILED: ${what}\n`);
  };
  const skippedRows: SyncResult['skippedRows'] = [];

  // The store, a prefix with everything, its lockfile (untimed).
  progress(
    `adding ${pkgs.length} corpus packages to a new store and locking a prefix of them (untimed)`,
  );
  const packages: SyncResult['packages'] = [];
  let files = 0;
  let bytes = 0;
  for (const p of pkgs) {
    const a = JSON.parse(
      (
        await pstoreCli(
          ['add', p.dir, '--name', p.name, '--version', p.version, '--json', '--store', store],
          { maxRss: false },
        )
      ).stdout,
    ) as { id: string; files: number; bytes: number };
    packages.push({ name: p.name, version: p.version, id: a.id, files: a.files });
    files += a.files;
    bytes += a.bytes;
  }
  const refs = pkgs.map((p) => `${p.name}@${p.version}`);
  await pstoreCli(
    [
      'activate',
      ...refs,
      '--prefix',
      path.join(scratch, 'source-prefix'),
      '--quiet',
      '--store',
      store,
    ],
    { maxRss: false },
  );
  await pstoreCli(
    [
      'lock',
      '--prefix',
      path.join(scratch, 'source-prefix'),
      '-o',
      lockFile,
      '--quiet',
      '--store',
      store,
    ],
    { maxRss: false },
  );
  const lock = JSON.parse(await fsp.readFile(lockFile, 'utf8')) as {
    packages: Record<string, { id: string }>;
  };
  check(
    `the lockfile names all ${pkgs.length} packages`,
    Object.keys(lock.packages).length === pkgs.length,
  );

  const runs = Object.fromEntries(OPS.map((o) => [o, [] as number[]])) as Record<Op, number[]>;
  const rss: Partial<Record<Op, number>> = {};
  const pstore = async <T>(
    op: Op | undefined,
    args: string[],
    storeDir = store,
  ): Promise<{ ms: number; maxRssKiB: number; json: T }> => {
    await settle();
    const r = await pstoreCli([...args, '--json', '--store', storeDir]);
    if (op) {
      runs[op].push(r.ms);
      rss[op] = Math.max(rss[op] ?? 0, r.maxRssKiB ?? 0);
    }
    return { ms: r.ms, maxRssKiB: r.maxRssKiB ?? 0, json: JSON.parse(r.stdout) as T };
  };
  const timed = async (op: Op, fn: () => Promise<{ ms: number }>) => {
    await settle();
    const r = await fn();
    runs[op].push(r.ms);
    return r.ms;
  };

  const pip = await pipAvailable();
  if (!pip.ok) skippedRows.push({ rows: 'pip install', reason: pip.reason });
  const wheelTrees = WHEEL_PACKAGES.map((n) => pkgs.find((p) => p.name === n));
  const haveWheelTrees =
    wheelTrees.every((p) => p !== undefined) && wheels.length === WHEEL_PACKAGES.length;
  if (!haveWheelTrees)
    skippedRows.push({
      rows: 'pip comparison',
      reason: `the corpus lacks ${WHEEL_PACKAGES.join(', ')} or their wheels`,
    });
  let link = '';
  let bundleBytes = 0;
  let pipFiles: SyncResult['pipFiles'];
  const expected = { files, bytes };

  for (let i = 1; i <= repeats; i++) {
    const runDir = path.join(scratch, `run-${i}`);
    await fsp.mkdir(runDir, { recursive: true });
    // sync: cold, then the no-op.
    const fresh = path.join(runDir, 'fresh');
    const cold = await pstore<Txn>('syncCold', ['sync', lockFile, '--prefix', fresh]);
    link = cold.json.link;
    const noop = await pstore<Txn>('syncNoop', ['sync', lockFile, '--prefix', fresh]);
    if (i === 1) {
      check(
        `cold sync activated ${pkgs.length} packages as generation 1`,
        !cold.json.noop && cold.json.activated.length === pkgs.length && cold.json.generation === 1,
      );
      check('second sync reported noop', noop.json.noop && noop.json.generation === 1);
      const s = await treeStats(fresh, (n) => n.startsWith('.pstore'));
      check(
        `synced prefix has the corpus's ${formatCount(files)} files (got ${formatCount(s.files)})`,
        s.files === files && s.bytes === bytes,
      );
    }
    // cp -al of every tree, merged into one directory, by one process.
    const cpal = path.join(runDir, 'cp-al');
    await fsp.mkdir(cpal);
    const cpMs = await timed('cpAl', () =>
      run('cp', ['-al', ...pkgs.map((p) => `${p.dir}/.`), `${cpal}/`]),
    );
    runs.cpAlSync.push(cpMs + (await syncFs(cpal)).ms);
    if (i === 1) {
      const s = await treeStats(cpal);
      check(
        `cp -al merged tree has ${formatCount(files)} files (got ${formatCount(s.files)})`,
        s.files === files,
      );
    }
    // pip of the 3 real wheels, and pstore doing the same from the 3 Debian trees.
    if (pip.ok && haveWheelTrees) {
      const nc = path.join(runDir, 'pip-nocompile');
      const co = path.join(runDir, 'pip-compile');
      await timed('pipNoCompile', () => pipInstall(nc, wheels, false));
      await timed('pipCompile', () => pipInstall(co, wheels, true));
      if (i === 1)
        pipFiles = { noCompile: (await treeStats(nc)).files, compile: (await treeStats(co)).files };
    }
    if (haveWheelTrees) {
      const store3 = path.join(runDir, 'store-3');
      let addMs = 0;
      for (const p of wheelTrees as CorpusPackage[]) {
        const a = await pstore(
          undefined,
          ['add', p.dir, '--name', p.name, '--version', p.version],
          store3,
        );
        addMs += a.ms;
        rss.add3 = Math.max(rss.add3 ?? 0, a.maxRssKiB);
      }
      const refs3 = (wheelTrees as CorpusPackage[]).map((p) => `${p.name}@${p.version}`);
      const act = await pstore<Txn>(
        'activate3New',
        ['activate', ...refs3, '--prefix', path.join(runDir, 'prefix-3-new')],
        store3,
      );
      runs.add3.push(addMs);
      runs.addActivate3.push(addMs + act.ms);
      rss.addActivate3 = Math.max(rss.add3 ?? 0, rss.activate3New ?? 0);
      const act2 = await pstore<Txn>('activate3', [
        'activate',
        ...refs3,
        '--prefix',
        path.join(runDir, 'prefix-3'),
      ]);
      if (i === 1)
        check(
          'the 3 wheel packages activated (both ways)',
          act.json.activated.length === 3 && act2.json.activated.length === 3,
        );
    }
    // export --lock, import into a new store, sync from it.
    const bundle = path.join(runDir, 'deps.pstore');
    const exp = await pstore<{ bytes: number; entries: unknown[] }>('export', [
      'export',
      '--lock',
      lockFile,
      '-o',
      bundle,
    ]);
    bundleBytes = (await fsp.stat(bundle)).size;
    const istore = path.join(runDir, 'store-imported');
    const imp = await pstore<{ entries: unknown[] }>('import', ['import', bundle], istore);
    const ci = await pstore<Txn>(
      undefined,
      ['sync', lockFile, '--prefix', path.join(runDir, 'ci-prefix')],
      istore,
    );
    runs.importSync.push(imp.ms + ci.ms);
    if (i === 1) {
      check(
        `export and import carried ${pkgs.length} entries`,
        exp.json.entries.length === pkgs.length && imp.json.entries.length === pkgs.length,
      );
      check(
        'sync from the imported store activated every package',
        !ci.json.noop && ci.json.activated.length === pkgs.length,
      );
    }
    progress(
      `run ${i}/${repeats}: sync cold ${formatMs(cold.ms)}, no-op ${formatMs(noop.ms)}, cp -al ${formatMs(cpMs)}; ` +
        `pip ${formatMs(runs.pipNoCompile.at(-1) ?? NaN)}/${formatMs(runs.pipCompile.at(-1) ?? NaN)}, add×3+activate ${formatMs(runs.addActivate3.at(-1) ?? NaN)}; ` +
        `export ${formatMs(exp.ms)}, import ${formatMs(imp.ms)}`,
    );
    await removeTree(runDir);
  }

  // What the CLI rows pay before any work.
  const startup = await measureStartup();
  runs.nodeStart.push(...startup.nodeMs);
  runs.cliStart.push(...startup.cliVersionMs);
  if (pip.ok)
    for (let k = 0; k < 5; k++)
      runs.pipStart.push((await run('python3', ['-m', 'pip', '--version'], { env: pipEnv() })).ms);

  let prof: Record<string, ProfileSummary> | undefined;
  if (profile) {
    prof = {};
    for (const label of ['cold sync', 'no-op sync']) {
      const d = path.join(WORK_DIR, 'profiles', 'sync', label.replace(/\W+/g, '-'));
      await removeTree(d);
      await settle();
      await pstoreCli(
        [
          'sync',
          lockFile,
          '--prefix',
          path.join(scratch, 'prof-prefix'),
          '--quiet',
          '--store',
          store,
        ],
        { maxRss: false, cpuProfileDir: d },
      );
      const f = (await fsp.readdir(d)).find((x) => x.endsWith('.cpuprofile'));
      if (f) prof[label] = await summarizeProfile(path.join(d, f));
    }
  }
  await removeTree(scratch);

  const ops: Partial<Record<Op, OpResult>> = {};
  for (const op of OPS) {
    if (!runs[op].length) continue;
    ops[op] = { runsMs: runs[op].map((x) => Math.round(x * 10) / 10), medianMs: median(runs[op]) };
    if (rss[op]) ops[op].maxRssKiB = rss[op];
  }
  for (const op of ['syncCold', 'cpAl', 'cpAlSync', 'importSync'] as const)
    if (ops[op]) ops[op].files = expected.files;
  const files3 = packages
    .filter((p) => WHEEL_PACKAGES.includes(p.name))
    .reduce((a, p) => a + p.files, 0);
  for (const op of ['addActivate3', 'add3', 'activate3New', 'activate3'] as const)
    if (ops[op]) ops[op].files = files3;
  if (pipFiles && ops.pipNoCompile) ops.pipNoCompile.files = pipFiles.noCompile;
  if (pipFiles && ops.pipCompile) ops.pipCompile.files = pipFiles.compile;
  for (const op of ['export', 'import'] as const) if (ops[op]) ops[op].bytes = bundleBytes;
  for (const op of OPS) {
    const b = BASELINE[op];
    if (ops[op] && b && ops[b]) {
      ops[op].ratio = ops[op].medianMs / ops[b].medianMs;
      ops[op].baseline = b;
    }
  }
  return {
    packages,
    files,
    bytes,
    wheels: wheels.map((w) => path.basename(w)),
    repeats,
    link,
    bundleBytes,
    pipFiles,
    ops,
    checks,
    skippedRows,
    loadavg: { start: loadStart, end: loadString() },
    wallSeconds: Math.round((Date.now() - t0) / 1000),
    ...(prof ? { profile: prof } : {}),
  };
}

/** pip's environment: no config files, no $PIP_FIND_LINKS, no version check, no prompts. */
function pipEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('PIP_')) delete env[k];
  return {
    ...env,
    PIP_CONFIG_FILE: '/dev/null',
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    PIP_ROOT_USER_ACTION: 'ignore',
    PIP_NO_INPUT: '1',
  };
}

async function pipAvailable(): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (!(await have('python3'))) return { ok: false, reason: 'python3 not found' };
  try {
    await run('python3', ['-m', 'pip', '--version'], { env: pipEnv() });
    return { ok: true };
  } catch {
    return { ok: false, reason: 'python3 -m pip not available' };
  }
}

/**
 * `python3 -m pip install --no-deps --no-index --ignore-installed --prefix DEST WHEELS...`.
 * --ignore-installed is what keeps pip away from the interpreter's own site-packages: without it,
 * pip "upgrades" the interpreter's pip and setuptools by uninstalling them there.
 */
async function pipInstall(
  dest: string,
  wheels: string[],
  compile: boolean,
): Promise<{ ms: number }> {
  const args = [
    '-m',
    'pip',
    'install',
    '--no-deps',
    '--no-index',
    '--ignore-installed',
    '--no-warn-script-location',
    ...(compile ? [] : ['--no-compile']),
    '--prefix',
    dest,
    ...wheels,
  ];
  const r = await run('python3', args, { env: pipEnv(), captureStdout: true });
  if (/Uninstalling|Attempting uninstall/.test(r.stdout)) {
    throw new Error(`pip uninstalled something outside ${dest}; stopping:\n${r.stdout}`);
  }
  return r;
}

const COLUMNS: Column[] = [
  { header: 'operation' },
  { header: 'wall', align: 'right' },
  { header: 'files', align: 'right' },
  { header: 'files/s', align: 'right' },
  { header: 'MB/s', align: 'right' },
  { header: 'peak RSS', align: 'right' },
  { header: 'time ratio', align: 'right' },
  { header: 'to' },
];

const SHORT: Record<Op, string> = {
  syncCold: 'sync cold',
  syncNoop: 'sync no-op',
  cpAl: 'cp -al',
  cpAlSync: 'cp -al+sync',
  pipNoCompile: 'pip --no-compile',
  pipCompile: 'pip',
  addActivate3: 'add×3+activate',
  add3: 'add×3',
  activate3New: 'activate',
  activate3: 'activate',
  export: 'export',
  import: 'import',
  importSync: 'import+sync',
  nodeStart: 'node -e 0',
  cliStart: 'pstore --version',
  pipStart: 'pip --version',
};

function printResult(r: SyncResult, log: Log): void {
  log(
    `corpus: ${r.packages.length} packages (${r.packages.map((p) => p.name).join(', ')}), ${formatCount(r.files)} files, ${formatMB(r.bytes)} MB; ` +
      `wheels ${r.wheels.join(', ')}; median of ${r.repeats} runs; sync linked by ${r.link || '?'}; load ${r.loadavg.start} → ${r.loadavg.end}; ${r.wallSeconds} s`,
  );
  const sep = (ops: readonly Op[]) => ops.filter((o) => r.ops[o]);
  const groups = [
    sep(['syncCold', 'syncNoop', 'cpAl', 'cpAlSync']),
    sep(['pipNoCompile', 'pipCompile', 'addActivate3', 'add3', 'activate3New', 'activate3']),
    sep(['export', 'import', 'importSync']),
    sep(['nodeStart', 'cliStart', 'pipStart']),
  ];
  const rows: string[][] = [];
  for (const g of groups.filter((x) => x.length)) {
    if (rows.length) rows.push([]);
    for (const op of g) {
      const o = r.ops[op]!;
      rows.push([
        OP_LABEL[op],
        formatMs(o.medianMs),
        o.files ? formatCount(o.files) : '',
        o.files && op !== 'syncNoop' ? formatCount(o.files / (o.medianMs / 1000)) : '',
        o.bytes ? formatMB(o.bytes / (o.medianMs / 1000)) : '',
        formatKiB(o.maxRssKiB),
        o.ratio === undefined ? '' : formatRatio(o.ratio),
        o.baseline ? SHORT[o.baseline] : '',
      ]);
    }
  }
  log(formatTable(COLUMNS, rows));
  log(
    `(bundle ${formatMB(r.bundleBytes)} MB for ${r.packages.length} entries; pip files: ${r.pipFiles ? `${formatCount(r.pipFiles.noCompile)} without .pyc, ${formatCount(r.pipFiles.compile)} with` : '-'}; ` +
      `time ratio: this row's wall time ÷ the named row's, > 1 is slower; every pstore and pip row includes its interpreter's startup, see the last rows)`,
  );
  for (const s of r.skippedRows) log(`skipped: ${s.rows}: ${s.reason}`);
  log(`checks: ${r.checks.map((c) => `${c.what} ${c.ok ? 'ok' : 'FAILED'}`).join('; ')}`);
  log('');
  for (const [label, p] of Object.entries(r.profile ?? {})) {
    log(
      `profile: ${label} (node --cpu-prof; ${shortPath(path.join(WORK_DIR, 'profiles', 'sync'))})`,
    );
    log(
      `  ${formatMs(p.wallMs)} profiled, ${formatMs(p.wallMs - p.idleMs)} busy, ${formatMs(p.idleMs)} idle, ${formatMs(p.gcMs)} in GC; by source: ${p.bySource
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
