// The `pstore` command run as a program (as npm links it): a shell launcher that starts Node on the
// same file without NODE_EXTRA_CA_CERTS, which Node 20 would parse at every start (SPEC.md §Start-up
// cost). Node warns when that file cannot be read, so a file that does not exist shows whether
// Node loaded it: `node pstore.cjs` does, the command run as a program does not. The commands still
// run, and the programs pstore starts see the variable as the user set it.

import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { CLI, REPO, assertBuilt, childEnv } from '../_helpers/cli.js';
import { buildTree } from '../_helpers/tree.js';
import { tempDir } from '../_helpers/tmp.js';

const run = promisify(execFile);
const NODE_WARNING = /Ignoring extra certs from/;

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** `file args…` with NODE_EXTRA_CA_CERTS naming `certs`; Node from PATH, as for a user. */
async function withCerts(
  certs: string,
  file: string,
  args: string[],
  extra: Record<string, string> = {},
): Promise<Ran> {
  assertBuilt();
  const env = childEnv({ NODE_EXTRA_CA_CERTS: certs, ...extra });
  // Node first on PATH: the launcher runs `node` as a user's shell finds it
  env.PATH = `${path.dirname(process.execPath)}:${env.PATH ?? ''}`;
  try {
    const r = await run(file, args, { cwd: REPO, env });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

test('node pstore.cjs: Node itself loads NODE_EXTRA_CA_CERTS at start (the warning is seen)', async (t) => {
  const dir = await tempDir(t, 'launcher');
  const r = await withCerts(path.join(dir, 'absent.pem'), process.execPath, [CLI, '--version']);
  t.is(r.code, 0);
  t.regex(r.stderr, NODE_WARNING);
});

test('pstore run as a program: add, activate, status and ls run; Node never loads the certificates', async (t) => {
  const dir = await tempDir(t, 'launcher');
  const certs = path.join(dir, 'absent.pem');
  const store = path.join(dir, 'store');
  const prefix = path.join(dir, 'prefix');
  const src = await buildTree(path.join(dir, 'src'), { 'share/doc/a.txt': 'a\n' });
  const pstore = (...args: string[]) => withCerts(certs, CLI, ['--store', store, ...args]);
  const ran = [
    await withCerts(certs, CLI, ['--version']),
    await pstore('add', src, '--name', 'a', '--version', '1', '-q'),
    await pstore('activate', 'a@1', '--prefix', prefix, '-q'),
    await pstore('status', '--prefix', prefix, '--json'),
    await pstore('ls'),
  ];
  for (const r of ran) {
    t.is(r.code, 0, r.stderr);
    t.notRegex(r.stderr, NODE_WARNING);
  }
  t.regex(ran[0]!.stdout, /^\d+\.\d+\.\d+\n$/);
  t.is(await fsp.readFile(path.join(prefix, 'share/doc/a.txt'), 'utf8'), 'a\n');
  t.regex(ran[4]!.stdout, /a@1/);
});

test('pstore run as a program: what it runs sees NODE_EXTRA_CA_CERTS as the user set it', async (t) => {
  const dir = await tempDir(t, 'launcher');
  const certs = path.join(dir, 'absent.pem');
  // A preload records the variable as the process leaves it, after the command ran.
  const probe = path.join(dir, 'probe.cjs');
  const seen = path.join(dir, 'seen.json');
  await fsp.writeFile(
    probe,
    `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(seen)}, JSON.stringify(process.env.NODE_EXTRA_CA_CERTS ?? null)));\n`,
  );
  const r = await withCerts(certs, CLI, ['--version'], { NODE_OPTIONS: `--require=${probe}` });
  t.is(r.code, 0, r.stderr);
  t.notRegex(r.stderr, NODE_WARNING);
  t.is(JSON.parse(await fsp.readFile(seen, 'utf8')), certs);
});
