// Progress (issue 10): totals, a percentage and a rate where the total is known — add (a
// directory's files and bytes once walked, a tar file's bytes read), verify (files), import (the
// bundle's bytes), a transaction's link phase — and "plan..." while a transaction plans; on a
// terminal only, never when piped, nor with --json or --quiet. The renderer is tested as a unit,
// the CLI on a real pseudo-terminal made by `script`.

import { execFile } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { ProgressLine, percentOf } from '../../cli/progress.js';
import { formatBytes } from '../../cli/output.js';
import { CLI, describe, storeCli } from '../_helpers/cli.js';
import { buildTar } from '../_helpers/tar.js';
import { buildTree } from '../_helpers/tree.js';
import { tempDir } from '../_helpers/tmp.js';

const run = promisify(execFile);
/** the start of every progress line: carriage return, erase the line */
const CLEAR = '\r\u001b[K';
const SCRIPT = ['/usr/bin/script', '/bin/script'].find((p) => existsSync(p));

test('the line: done/total in units, a percentage, and a rate once the phase has run a while', (t) => {
  const line = new ProgressLine(formatBytes);
  t.is(line.render({ phase: 'plan', unit: 'steps', done: 0 }, 1000), 'plan...');
  t.is(
    line.render({ phase: 'link', unit: 'files', done: 0, total: 10_000 }, 2000),
    'link: 0/10,000 files (0%)',
  );
  t.is(
    line.render(
      { phase: 'link', unit: 'files', done: 4210, total: 10_000, subject: 'bin/x' },
      4000,
    ),
    'link: 4,210/10,000 files (42%) 2,105 files/s bin/x',
    'the rate counts from the first event of the phase',
  );
  t.is(
    line.render({ phase: 'ingest', unit: 'files', done: 1, bytes: 4096 }, 5000),
    'add: 1 file, 4.0 KiB',
    'no total for a tar stream; no rate in the first half second of a phase',
  );
  t.is(
    line.render({ phase: 'ingest', unit: 'files', done: 9, bytes: 8192, totalBytes: 16384 }, 7000),
    'add: 9 files, 8.0 KiB/16.0 KiB (50%) 4.0 KiB/s',
    'a tar file: the percentage of its bytes read',
  );
  t.is(
    line.render({ phase: 'verify', unit: 'files', done: 1, total: 3, subject: 'a/b/c/d' }, 0, 20)
      .length,
    19,
    'cut to the terminal width',
  );
});

test('the percentage: by bytes where their total is known, by units otherwise, never past 100', (t) => {
  const ingest = { phase: 'ingest', unit: 'files' } as const;
  t.is(percentOf({ ...ingest, done: 9, total: 10, bytes: 10, totalBytes: 100 }), 10);
  t.is(percentOf({ ...ingest, done: 1, total: 4, bytes: 0, totalBytes: 0 }), 25, 'empty files');
  t.is(percentOf({ ...ingest, done: 5, bytes: 200, totalBytes: 100 }), 100, 'a file grew');
  t.is(percentOf({ ...ingest, done: 5, bytes: 200 }), undefined, 'a stream of unknown length');
});

/** Run pstore on a pseudo-terminal (stdin from `stdin` if given): stdout and stderr arrive merged. */
async function onTerminal(args: string[], stdin?: string): Promise<string> {
  const quoted = [process.execPath, CLI, ...args].map((a) => `'${a}'`).join(' ');
  const command = stdin === undefined ? quoted : `${quoted} < '${stdin}'`;
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('PSTORE_') && k !== 'NODE_OPTIONS'),
  );
  const { stdout } = await run(SCRIPT!, ['-qec', command, '/dev/null'], { env, timeout: 120_000 });
  return stdout;
}

const show = (s: string): string => JSON.stringify(s);

// Without script(1) (util-linux) there is no pseudo-terminal: ava reports the test as skipped.
const terminalTest = SCRIPT ? test : test.skip;

terminalTest(
  'on a terminal: add, import and verify show a percentage of a known total, activate shows planning',
  async (t) => {
    const dir = await tempDir(t, 'progress');
    const store = path.join(dir, 'store');
    const src = await buildTree(path.join(dir, 'src'), {
      'a/1': '1\n',
      'a/2': '22\n',
      'a/3': '333\n',
    });
    const tar = path.join(dir, 'p.tar');
    await fsp.writeFile(tar, buildTar([{ path: 'bin/tool', data: 'x'.repeat(5000) }]));

    const added = await onTerminal(['--store', store, 'add', src, '--name', 'p', '--version', '1']);
    t.regex(
      added,
      /add: \d\/3 files, \d+ B\/9 B \(\d+%\)/,
      `the files and bytes the walk found: ${show(added)}`,
    );
    const fromTar = await onTerminal([
      '--store',
      store,
      'add',
      tar,
      '--name',
      't',
      '--version',
      '1',
    ]);
    t.regex(fromTar, /add: \d+ files?, [\d.]+ (B|KiB)\/[\d.]+ KiB \(\d+%\)/, show(fromTar));
    const fromStdin = await onTerminal(
      ['--store', store, 'add', '-', '--name', 't', '--version', '2'],
      tar,
    );
    t.regex(
      fromStdin,
      /add: \d+ files?, .*\/[\d.]+ KiB \(\d+%\)/,
      `stdin from a file: ${show(fromStdin)}`,
    );

    const bundle = path.join(dir, 'b.bundle');
    t.is((await storeCli(store)(['export', 'p@1', 't@1', '-o', bundle])).code, 0);
    const size = (await fsp.stat(bundle)).size;
    const imported = await onTerminal(['--store', path.join(dir, 'other'), 'import', bundle]);
    t.regex(
      imported,
      new RegExp(`import: \\d+ members?, .*/${formatBytes(size)} \\(\\d+%\\)`),
      show(imported),
    );
    t.regex(imported, /imported 2 entries/);

    const verify = await onTerminal(['--store', store, 'verify']);
    t.regex(verify, /verify: [1-5]\/5 files \(\d+%\)/, show(verify));
    t.true(verify.includes(`${CLEAR}verify: `), 'rewritten in place');
    t.regex(verify, /ok: 3 entries, 4 objects/);
    const activate = await onTerminal([
      '--store',
      store,
      'activate',
      'p',
      '--prefix',
      path.join(dir, 'prefix'),
    ]);
    t.true(activate.includes(`${CLEAR}plan...`), show(activate));
    t.regex(activate, /generation 1 \(was 0\)/);
  },
);

test('no progress with --json or --quiet on a terminal, nor on a stderr that is not one', async (t) => {
  const dir = await tempDir(t, 'progress-quiet');
  const store = path.join(dir, 'store');
  const src = await buildTree(path.join(dir, 'src'), { 'a/1': '1\n', 'a/2': '2\n' });
  const bundle = path.join(dir, 'b.bundle');
  const cli = storeCli(store);
  const commands = [
    ['add', src, '--name', 'p', '--version', '1'],
    ['verify'],
    ['export', 'p@1', '-o', bundle],
    ['--store', path.join(dir, 'other'), 'import', bundle],
  ];
  for (const args of commands) {
    const piped = await cli(args);
    t.is(piped.code, 0, describe(piped));
    t.is(piped.stderr, '', `nothing on a piped stderr: ${args[0]}`);
  }
  if (!SCRIPT) {
    t.log('SKIPPED the terminal half: no script(1)');
    return;
  }
  for (const quiet of ['--json', '--quiet'])
    for (const args of [
      ['add', src, '--name', 'q', '--version', quiet],
      ['verify'],
      commands[3]!,
    ]) {
      const out = await onTerminal(['--store', store, ...args, quiet]);
      t.false(out.includes(CLEAR), `no progress for ${args.join(' ')} ${quiet}: ${show(out)}`);
    }
});
