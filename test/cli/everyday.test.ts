// Everyday CLI behaviour (issue 10): suggestions for misspelt commands and options, the aliases
// users of dpkg/pacman/npm type, pstore's own words for every parse error (never Node's parser
// text), and a quiet exit when a reader closes the pipe early.

import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { CLI, describe, runCli, storeCli } from '../_helpers/cli.js';
import { buildTree } from '../_helpers/tree.js';
import { tempDir, tempStore } from '../_helpers/tmp.js';

const run = promisify(execFile);

test('a misspelt command or option gets "did you mean"; Node\'s parser text never shows', async (t) => {
  const store = await tempStore(t);
  const cases: Array<[string[], RegExp]> = [
    [['lst'], /unknown command "lst" \(did you mean ls\?\)/],
    [['activte'], /did you mean activate\?/],
    [['ls', '--jsn'], /ls: unknown option --jsn \(did you mean --json\?\)/],
    [['gc', '--dry-rn'], /did you mean --dry-run\?/],
    [['add', 'x', '--name'], /add: --name needs a value/],
    [['ls', '--json=yes'], /ls: --json takes no value/],
    [['ls', '--frobnicate'], /ls: unknown option --frobnicate \(see pstore ls --help\)/],
  ];
  for (const [args, expected] of cases) {
    const r = await runCli(['--store', store, ...args]);
    t.is(r.code, 2, describe(r));
    t.regex(r.stderr, expected);
    t.notRegex(r.stderr, /To specify a positional|Unknown option|ERR_PARSE/);
  }
});

test('aliases: install, remove, uninstall and list run activate, deactivate and ls', async (t) => {
  const dir = await tempDir(t, 'alias');
  const cli = storeCli(path.join(dir, 'store'));
  const src = await buildTree(path.join(dir, 'src'), { 'share/a.txt': 'a\n' });
  const prefix = path.join(dir, 'prefix');
  t.is((await cli(['add', src, '--name', 'a', '--version', '1', '--quiet'])).code, 0);
  const listed = await cli(['list']);
  t.regex(listed.stdout, /a@1/);
  const installed = await cli(['install', 'a', '--prefix', prefix]);
  t.is(installed.code, 0, describe(installed));
  t.regex(installed.stdout, /\+ a@1/);
  t.is((await cli(['remove', 'a', '--prefix', prefix])).code, 0);
  t.is((await cli(['install', 'a', '--prefix', prefix, '--quiet'])).code, 0);
  const removed = await cli(['uninstall', 'a', '--prefix', prefix]);
  t.regex(removed.stdout, /- a@1/);
  const help = await runCli(['--help']);
  t.regex(help.stdout, /aliases: install = activate/);
});

test('a reader that closes the pipe early (| head -1) ends pstore quietly with exit 0', async (t) => {
  const dir = await tempDir(t, 'epipe');
  const store = path.join(dir, 'store');
  // Enough paths that `info --paths` writes far more than a pipe buffer holds.
  const spec: Record<string, string> = {};
  for (let i = 0; i < 3000; i++)
    spec[`share/doc/a-rather-long-directory-name-${i % 30}/file-number-${i}.txt`] = `${i}\n`;
  const src = await buildTree(path.join(dir, 'src'), spec);
  t.is((await storeCli(store)(['add', src, '--name', 'big', '--version', '1', '--quiet'])).code, 0);
  const script = `"${process.execPath}" "${CLI}" --store "${store}" info big --paths --json | head -c 10 >/dev/null; echo "\${PIPESTATUS[0]}"`;
  const { stdout, stderr } = await run('bash', ['-c', script]);
  t.is(stdout.trim(), '0', `pstore's exit status (stderr: ${stderr})`);
  t.is(stderr, '', 'nothing on stderr');
});

test('add - on a terminal refuses at once instead of waiting for a tar to be typed', async (t) => {
  const store = await tempStore(t);
  // script(1) gives the command a pseudo-terminal for stdin; -e passes its exit status through.
  const command = `"${process.execPath}" "${CLI}" --store "${store}" add - --name a --version 1`;
  const started = Date.now();
  const r = await run('script', ['-qec', command, '/dev/null'], { timeout: 20_000 }).then(
    (ok) => ({ code: 0, out: ok.stdout }),
    (err: { code: number; stdout: string }) => ({ code: err.code, out: err.stdout }),
  );
  t.is(r.code, 2, r.out);
  t.regex(r.out, /stdin is a terminal; pipe a tar into it/);
  t.true(Date.now() - started < 15_000);
});

test("completion: bash completes commands and a command's options; zsh and fish scripts are printed; others exit 2", async (t) => {
  const script = (await runCli(['completion', 'bash'])).stdout;
  const complete = async (...words: string[]) => {
    const body = `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _pstore; echo "\${COMPREPLY[@]}"`;
    return (await run('bash', ['-c', body])).stdout.trim().split(' ');
  };
  t.deepEqual(await complete('pstore', 'deac'), ['deactivate']);
  t.true((await complete('pstore', 'activate', '--p')).includes('--prefix'));
  t.true((await complete('pstore', 'gc', '--d')).includes('--dry-run'));
  for (const shell of ['zsh', 'fish']) {
    const r = await runCli(['completion', shell]);
    t.is(r.code, 0);
    t.regex(r.stdout, /activate/);
  }
  t.is((await runCli(['completion', 'tcsh'])).code, 2);
  // --json: the script as data, the same text
  const json = await runCli(['completion', 'bash', '--json']);
  t.is(json.code, 0, describe(json));
  t.deepEqual(JSON.parse(json.stdout), { shell: 'bash', script });
});
