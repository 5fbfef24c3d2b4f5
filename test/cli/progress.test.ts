// Progress (issue 10): totals, a percentage and a rate where the total is known (verify, a
// transaction's link phase), "plan..." while a transaction plans, bytes and a rate for add; on a
// terminal only — never when piped, nor with --json or --quiet. The renderer is tested as a unit,
// the CLI on a real pseudo-terminal made by `script`.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { ProgressLine } from '../../cli/progress.js';
import { formatBytes } from '../../cli/output.js';
import { CLI, describe, storeCli } from '../_helpers/cli.js';
import { buildTree } from '../_helpers/tree.js';
import { tempDir } from '../_helpers/tmp.js';

const run = promisify(execFile);
/** the start of every progress line: carriage return, erase the line */
const CLEAR = '\r\u001b[K';
const SCRIPT = ['/usr/bin/script', '/bin/script'].find((p) => existsSync(p));

test('the line: bar, percentage, done/total and a rate when the total is known', (t) => {
  const line = new ProgressLine(formatBytes);
  t.is(line.render({ phase: 'plan', done: 0 }, 1000), 'plan...');
  t.is(
    line.render({ phase: 'link', done: 0, total: 10 }, 2000),
    'link [....................] 0% 0/10',
  );
  t.is(
    line.render({ phase: 'link', done: 5, total: 10, subject: 'bin/x' }, 4000),
    'link [##########..........] 50% 5/10 3/s bin/x',
    'the rate counts from the first event of the phase',
  );
  t.is(
    line.render({ phase: 'ingest', done: 3, bytes: 4096 }, 5000),
    'ingest 3 4.0 KiB',
    'no rate in the first half second of a phase',
  );
  t.is(line.render({ phase: 'ingest', done: 9, bytes: 8192 }, 7000), 'ingest 9 8.0 KiB 4.0 KiB/s');
  t.is(
    line.render({ phase: 'verify', done: 1, total: 3, subject: 'a/very/long/path' }, 0, 20).length,
    19,
    'cut to the terminal width',
  );
});

/** Run pstore on a pseudo-terminal: stdout and stderr arrive merged, as a user sees them. */
async function onTerminal(args: string[]): Promise<string> {
  const command = [process.execPath, CLI, ...args].map((a) => `'${a}'`).join(' ');
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('PSTORE_') && k !== 'NODE_OPTIONS'),
  );
  const { stdout } = await run(SCRIPT!, ['-qec', command, '/dev/null'], { env, timeout: 120_000 });
  return stdout;
}

test('on a terminal: verify shows a percentage of a known total, activate shows planning; never with --json or --quiet, nor piped', async (t) => {
  if (!SCRIPT) {
    t.log('SKIPPED: no script(1) to make a pseudo-terminal; the renderer test above still runs');
    t.pass();
    return;
  }
  const dir = await tempDir(t, 'progress');
  const store = path.join(dir, 'store');
  const src = await buildTree(path.join(dir, 'src'), { 'a/1': '1\n', 'a/2': '2\n', 'a/3': '3\n' });
  const cli = storeCli(store);
  const added = await cli(['add', src, '--name', 'p', '--version', '1']);
  t.is(added.code, 0, describe(added));

  const verify = await onTerminal(['--store', store, 'verify']);
  t.regex(verify, /verify \[#+\.*\] \d+% [123]\/3/, JSON.stringify(verify));
  t.true(verify.includes(`${CLEAR}verify [`), 'rewritten in place');
  t.regex(verify, /ok: 1 entries, 3 objects/);
  const activate = await onTerminal([
    '--store',
    store,
    'activate',
    'p',
    '--prefix',
    path.join(dir, 'prefix'),
  ]);
  t.true(activate.includes(`${CLEAR}plan...`), JSON.stringify(activate));
  t.regex(activate, /generation 1 \(was 0\)/);

  for (const quiet of [['--json'], ['--quiet']]) {
    const out = await onTerminal(['--store', store, 'verify', ...quiet]);
    t.false(out.includes(CLEAR), `no progress with ${quiet[0]}: ${JSON.stringify(out)}`);
  }
  const piped = await cli(['verify']);
  t.is(piped.code, 0, describe(piped));
  t.is(piped.stderr, '', 'nothing on a stderr that is not a terminal');
});
