// Peak RSS of every operation on a 100k-file entry and prefix (issue 9: < 300 MB each).
// `node --import=tsx bench/rss.mts [N]` after `npm run build`; prints one line per operation:
// the command, its peak RSS (/usr/bin/time %M) and wall time. Not part of `npm run bench`.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateTree } from './_lib/gen-tree.js';
import { CLI_PATH, WORK_DIR, requireBuiltCli } from './_lib/paths.js';

const n = Number(process.argv[2] ?? 100000);
/** PSTORE_CLI: another build of the CLI (a copy of dist/ kept for a before/after comparison). */
const cli = process.env.PSTORE_CLI ?? CLI_PATH;
requireBuiltCli();

async function treeOf(count: number): Promise<string> {
  const dir = path.join(WORK_DIR, 'trees', `tree-${count}`);
  if (!existsSync(path.join(dir, '.complete'))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    await generateTree(count, path.join(dir, 'root'));
    writeFileSync(path.join(dir, '.complete'), '');
  }
  return path.join(dir, 'root');
}

const W = path.join(WORK_DIR, 'runs', `rss-${n}${process.env.PSTORE_CLI ? '-other' : ''}`);
execFileSync('sh', ['-c', `chmod -R u+w "${W}" 2>/dev/null; rm -rf "${W}"`]);
mkdirSync(W, { recursive: true });
const tree = await treeOf(n);
const small = path.join(W, 'small');
mkdirSync(small);
writeFileSync(path.join(small, 'one.txt'), 'one\n');

const S = ['--store', path.join(W, 's')];
const P = ['--prefix', path.join(W, 'p')];
const lock = path.join(W, 'lock.json');

function measure(label: string, args: string[], stdoutTo?: string): void {
  const out = path.join(W, 'time');
  const r = spawnSync('/usr/bin/time', ['-f', '%M %e', '-o', out, 'node', cli, ...args, ...S], {
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 1 << 30,
  });
  if (stdoutTo) writeFileSync(stdoutTo, r.stdout);
  const [kb, secs] = readFileSync(out, 'utf8').trim().split('\n').pop()!.split(' ');
  const mb = Number(kb) / 1024;
  const flag = r.status === 0 ? '' : ` exit ${r.status}: ${r.stderr.toString().slice(0, 200)}`;
  console.log(
    `${label.padEnd(28)} ${mb.toFixed(0).padStart(5)} MiB ${secs.padStart(7)} s${mb >= 300 ? '  OVER' : ''}${flag}`,
  );
}

measure('add (100k tree)', ['add', tree, '--name', 'big', '--version', '1', '-q']);
measure('add (1 file)', ['add', small, '--name', 'small', '--version', '1', '-q']);
measure('activate big', ['activate', 'big@1', ...P, '-q']);
measure('activate small', ['activate', 'small@1', ...P, '-q']);
measure('ls', ['ls']);
measure('status', ['status', ...P]);
measure('diff --files', ['diff', '--files', ...P]);
measure('du', ['du']);
measure('owner', ['owner', 'one.txt', ...P]);
measure('verify', ['verify', '-q']);
measure('verify --prefix', ['verify', ...P, '-q']);
measure('lock', ['lock', ...P], lock);
measure('export', ['export', 'big@1', '-o', path.join(W, 'bundle.tar'), '-q']);
measure('sync (new prefix)', ['sync', lock, '--prefix', path.join(W, 'p2'), '-q']);
measure('deactivate small', ['deactivate', 'small', ...P, '-q']);
measure('deactivate big', ['deactivate', 'big', ...P, '-q']);
measure('deactivate big (p2)', [
  'deactivate',
  'big',
  'small',
  '--prefix',
  path.join(W, 'p2'),
  '-q',
]);
measure('gc', ['gc', '--older-than', '0s', '-q']);
measure('import', ['import', path.join(W, 'bundle.tar'), '-q']);
