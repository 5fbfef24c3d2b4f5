// Peak RSS of every operation on a 100k-file entry and prefix (issue 9: < 300 MB each).
// `node --import=tsx bench/rss.mts [N]` after `npm run build` prints one table: each command, its
// peak RSS (/usr/bin/time %M), its CPU (user + sys) and wall time, and met / missed against
// 300 MB (10^6 bytes). Push and pull run against a docker-registry started on 127.0.0.1 when
// /usr/bin/docker-registry exists. Not part of `npm run bench`: one run of every command, no peer.
// PSTORE_CLI=FILE measures another build of the CLI (a copy of dist/ kept for a before/after).
// `--only REGEX` measures only the operations whose label matches (a quick loop over a few rows):
// the others run unmeasured where a later one needs what they leave, and are skipped otherwise.

import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateTree } from './_lib/gen-tree.js';
import { CLI_PATH, WORK_DIR, requireBuiltCli } from './_lib/paths.js';

const onlyAt = process.argv.indexOf('--only');
const only = onlyAt < 0 ? undefined : new RegExp(process.argv[onlyAt + 1] ?? '');
const positional = process.argv.slice(2).filter((_, i) => i !== onlyAt - 2 && i !== onlyAt - 1);
const n = Number(positional[0] ?? 100000);
const cli = process.env.PSTORE_CLI ?? CLI_PATH;
const LIMIT_BYTES = 300e6;
const REGISTRY_BIN = '/usr/bin/docker-registry';
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

/** Another build's runs go beside this one's, named after its directory (dist-before/cli/pstore.cjs). */
const build = process.env.PSTORE_CLI ? `-${path.basename(path.dirname(path.dirname(cli)))}` : '';
const W = path.join(WORK_DIR, 'runs', `rss-${n}${build}`);
/** Entries are read-only in a store: make them writable before removing a store. */
function removeTree(dir: string): void {
  execFileSync('sh', ['-c', `chmod -R u+w "${dir}" 2>/dev/null; rm -rf "${dir}"`]);
}
removeTree(W);
mkdirSync(W, { recursive: true });
const tree = await treeOf(n);
const small = path.join(W, 'small');
mkdirSync(small);
writeFileSync(path.join(small, 'one.txt'), 'one\n');

interface Row {
  label: string;
  kb: number;
  cpu: number;
  wall: number;
  failure: string;
}
const rows: Row[] = [];

/** Operations no later one needs: with --only, skipped unless selected. */
const LEAVES = new Set([
  'ls',
  'status',
  'diff --files',
  'du',
  'owner',
  'verify',
  'verify --prefix',
]);
const needed = (label: string): boolean =>
  label === 'import (new store)'
    ? only!.test('gc (tree of garbage)')
    : !LEAVES.has(label) && !/^(gc|pull|deactivate big)/.test(label);

/** Runs one CLI command under /usr/bin/time and records its peak RSS and CPU. */
function measure(label: string, args: string[], stdoutTo?: string): void {
  if (only && !only.test(label)) {
    if (!needed(label)) return;
    const r = spawnSync('node', [cli, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    if (stdoutTo) writeFileSync(stdoutTo, r.stdout);
    if (r.status !== 0) throw new Error(`${label} (not measured) exited with ${r.status}`);
    return;
  }
  const out = path.join(W, 'time');
  const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S %e', '-o', out, 'node', cli, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 1 << 30,
  });
  if (stdoutTo) writeFileSync(stdoutTo, r.stdout);
  const [kb, user, sys, wall] = readFileSync(out, 'utf8').trim().split('\n').pop()!.split(' ');
  const failure = r.status === 0 ? '' : `exit ${r.status}: ${r.stderr.toString().slice(0, 160)}`;
  const row = {
    label,
    kb: Number(kb),
    cpu: Number(user) + Number(sys),
    wall: Number(wall),
    failure,
  };
  rows.push(row);
  console.error(
    `${label}: ${(row.kb / 1024).toFixed(0)} MiB ${row.cpu.toFixed(1)} CPU s ${failure}`,
  );
}

function printTable(): void {
  const head = ['operation', 'peak MiB', 'peak MB', 'CPU s', 'wall s', 'verdict'];
  const body = rows.map((r) => [
    r.label,
    (r.kb / 1024).toFixed(0),
    ((r.kb * 1024) / 1e6).toFixed(0),
    r.cpu.toFixed(1),
    r.wall.toFixed(1),
    r.failure
      ? `failed (${r.failure.split(':')[0]})`
      : r.kb * 1024 < LIMIT_BYTES
        ? 'met'
        : 'missed',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(`peak RSS of each operation at ${n} files, limit < 300 MB`);
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) console.log(line(b));
  for (const r of rows.filter((x) => x.failure)) console.log(`${r.label}: ${r.failure}`);
}

/** A registry with storage under W, on a port the kernel picks (read from its log). */
async function startRegistry(): Promise<{ host: string; child: ChildProcess } | undefined> {
  if (!existsSync(REGISTRY_BIN)) return undefined;
  const config = path.join(W, 'registry.yml');
  writeFileSync(
    config,
    `version: 0.1\nlog: {level: info, accesslog: {disabled: true}}\n` +
      `storage: {filesystem: {rootdirectory: ${path.join(W, 'registry')}}, delete: {enabled: true}}\n` +
      `http: {addr: 127.0.0.1:0, secret: bench}\n`,
  );
  const child = spawn(REGISTRY_BIN, ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await new Promise<string>((resolve, reject) => {
    let log = '';
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(log);
      if (m) resolve(m[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`docker-registry exited with ${code}:\n${log}`)));
  });
  return { host: `127.0.0.1:${port}`, child };
}

const store = (name: string) => ['--store', path.join(W, name)];
const S = store('s');
const P = ['--prefix', path.join(W, 'p')];
const PG = ['--prefix', path.join(W, 'pg')];
const lock = path.join(W, 'lock.json');
const bundle = path.join(W, 'bundle.tar');

measure('add (tree)', ['add', tree, '--name', 'big', '--version', '1', '-q', ...S]);
measure('add (1 file)', ['add', small, '--name', 'small', '--version', '1', '-q', ...S]);
measure('activate big (inplace)', ['activate', 'big@1', ...P, '-q', ...S]);
measure('activate small', ['activate', 'small@1', ...P, '-q', ...S]);
measure('activate big (generations)', [
  ...['activate', 'big@1', ...PG, '--layout', 'generations', '-q', ...S],
]);
measure('ls', ['ls', ...S]);
measure('status', ['status', ...P, ...S]);
measure('diff --files', ['diff', '--files', ...P, ...S]);
measure('du', ['du', ...S]);
measure('owner', ['owner', 'one.txt', ...P, ...S]);
measure('verify', ['verify', '-q', ...S]);
measure('verify --prefix', ['verify', ...P, '-q', ...S]);
measure('lock', ['lock', ...P, ...S], lock);
measure('export', ['export', 'big@1', '-o', bundle, '-q', ...S]);
measure('import (new store)', ['import', bundle, '-q', ...store('s2')]);
rmSync(bundle);
measure('gc (tree of garbage)', ['gc', '--older-than', '0s', '-q', ...store('s2')]);
removeTree(path.join(W, 's2'));
measure('sync (new prefix)', ['sync', lock, '--prefix', path.join(W, 'p2'), '-q', ...S]);
const registry = await startRegistry();
if (registry) {
  const remote = `oci://${registry.host}/bench/rss`;
  measure('push --lock', ['push', '--lock', lock, '--to', remote, '-q', ...S]);
  measure('pull --lock (new store)', [
    'pull',
    '--lock',
    lock,
    '--from',
    remote,
    '-q',
    ...store('s3'),
  ]);
  registry.child.kill('SIGTERM');
  removeTree(path.join(W, 's3'));
  removeTree(path.join(W, 'registry'));
} else console.error(`${REGISTRY_BIN} not found: push and pull not measured`);
measure('deactivate small', ['deactivate', 'small', ...P, '-q', ...S]);
measure('deactivate big (inplace)', ['deactivate', 'big', ...P, '-q', ...S]);
measure('deactivate big (generations)', ['deactivate', 'big', ...PG, '-q', ...S]);
measure('deactivate big (synced)', [
  ...['deactivate', 'big', 'small', '--prefix', path.join(W, 'p2'), '-q', ...S],
]);
measure('gc (all kept)', ['gc', '--older-than', '0s', '-q', ...S]);
printTable();
