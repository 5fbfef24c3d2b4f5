// Wheels: `pstore add W && pstore activate` against `pip install --no-deps --no-index
// --no-compile --prefix` and `python3 -m installer --no-compile-bytecode` of the same wheel, then
// with bytecode (`--compile` against their compiling defaults), as ratios (peer ÷ pstore, > 1 means
// pstore is faster). Self-contained: the corpus's real wheels (pip, setuptools, wheel), each run
// in a fresh store and prefix; the median of `repeats` runs.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const CLI = path.resolve(import.meta.dirname, '..', 'dist', 'cli', 'main.js');

function can(py: string, module: string): boolean {
  return spawnSync(py, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;
}

function seconds(cmds: string[][]): number {
  const start = process.hrtime.bigint();
  for (const [cmd, ...args] of cmds) {
    const r = spawnSync(cmd!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  }
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

type Runner = (wheel: string, work: string) => string[][];

function measure(wheel: string, runner: Runner, repeats: number): number {
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const work = mkdtempSync(path.join(os.tmpdir(), 'pstore-bench-wheel-'));
    try {
      times.push(seconds(runner(wheel, work)));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  return median(times);
}

const pstore =
  (python: string, compile: boolean): Runner =>
  (wheel, work) => [
    [
      'node',
      CLI,
      '--store',
      `${work}/s`,
      'add',
      wheel,
      '--python',
      python,
      '-q',
      ...(compile ? ['--compile'] : []),
    ],
    [
      'node',
      CLI,
      '--store',
      `${work}/s`,
      'activate',
      wheelName(wheel),
      '--prefix',
      `${work}/p`,
      '-q',
    ],
  ];
const pip =
  (python: string, compile: boolean): Runner =>
  (wheel, work) => [
    [
      python,
      '-m',
      'pip',
      'install',
      '-q',
      '--no-deps',
      '--no-index',
      '--ignore-installed', // never uninstall the interpreter's own copy (pip does, with --prefix)
      ...(compile ? [] : ['--no-compile']),
      '--prefix',
      `${work}/p`,
      wheel,
    ],
  ];
const installer =
  (python: string, compile: boolean): Runner =>
  (wheel, work) => [
    [
      python,
      '-m',
      'installer',
      ...(compile ? [] : ['--no-compile-bytecode']),
      '--destdir',
      `${work}/d`,
      '--prefix',
      '/',
      wheel,
    ],
  ];

function wheelName(wheel: string): string {
  return path.basename(wheel).split('-')[0]!;
}

export async function runWheelBench(opts: {
  corpus: string;
  repeats?: number;
}): Promise<{ ok: boolean }> {
  const pipPy = ['python3', '/usr/bin/python3'].find((py) => can(py, 'pip'));
  const instPy = ['python3', '/usr/bin/python3'].find((py) => can(py, 'installer'));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pstore-bench-wheels-'));
  try {
    const debs = execFileSync(
      'sh',
      ['-c', `ls ${opts.corpus}/debs/python3-*-whl_*.deb 2>/dev/null || true`],
      { encoding: 'utf8' },
    )
      .split('\n')
      .filter(Boolean);
    if (debs.length === 0 || !pipPy || !instPy) {
      process.stdout.write(
        `wheel bench skipped: needs the corpus's *-whl debs, pip and installer\n`,
      );
      return { ok: true };
    }
    for (const deb of debs) execFileSync('dpkg-deb', ['-x', deb, dir]);
    const wheels = execFileSync('find', [dir, '-name', '*.whl'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .sort();
    const repeats = opts.repeats ?? 3;
    process.stdout.write(
      'wheel            bytecode  pstore s   pip s  installer s  pip/pstore  installer/pstore\n',
    );
    for (const wheel of wheels)
      for (const compile of [false, true]) {
        const ours = measure(wheel, pstore(pipPy, compile), repeats);
        const theirs = measure(wheel, pip(pipPy, compile), repeats);
        const inst = measure(wheel, installer(instPy, compile), repeats);
        process.stdout.write(
          `${wheelName(wheel).padEnd(16)} ${(compile ? 'yes' : 'no').padEnd(9)} ${ours.toFixed(2).padStart(8)} ${theirs.toFixed(2).padStart(7)} ${inst.toFixed(2).padStart(12)} ${(theirs / ours).toFixed(2).padStart(11)} ${(inst / ours).toFixed(2).padStart(17)}\n`,
        );
      }
    return { ok: true };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
