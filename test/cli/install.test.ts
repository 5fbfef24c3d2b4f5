// Install from a fresh clone (issue 10): `git clone`, `npm ci --ignore-scripts` (nothing compiled,
// no install scripts: pnpm 10's default), `npm run build`, then `pstore --version`, a small
// add + activate with the clone's own CLI, and examples/demo.sh. npm ci needs the registry or a warm npm cache
// (--prefer-offline), so the test runs only with PSTORE_INSTALL_TEST=1.

import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { REPO } from '../_helpers/cli.js';
import { buildTree } from '../_helpers/tree.js';
import { tempDir } from '../_helpers/tmp.js';

const run = promisify(execFile);
const ENABLED = process.env.PSTORE_INSTALL_TEST === '1';

// Without PSTORE_INSTALL_TEST=1 ava reports the test as skipped (not as passed).
const installTest = ENABLED ? test : test.skip;

installTest(
  'a fresh clone installs with --ignore-scripts, builds, runs add and activate, then the demo',
  async (t) => {
    t.timeout(20 * 60_000);
    const dir = await tempDir(t, 'install');
    const clone = path.join(dir, 'clone');
    await run('git', ['clone', '--quiet', REPO, clone]);
    const sh = (cmd: string, args: string[]) =>
      run(cmd, args, { cwd: clone, env: { ...process.env, NODE_OPTIONS: '' }, maxBuffer: 1 << 26 });
    await sh('npm', ['ci', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund']);
    await sh('npm', ['run', 'build']);
    const pkg = JSON.parse(await fsp.readFile(path.join(clone, 'package.json'), 'utf8')) as {
      version: string;
      bin: { pstore: string };
    };
    // the `pstore` command as package.json's bin names it (what npm links), run as a program
    const pstore = (...args: string[]) =>
      sh(path.join(clone, pkg.bin.pstore), ['--store', path.join(dir, 'store'), ...args]);
    t.is((await pstore('--version')).stdout, `${pkg.version}\n`);
    const src = await buildTree(path.join(dir, 'src'), { 'bin/hello': 'echo hello\n' });
    await pstore('add', src, '--name', 'hello', '--version', '1');
    const prefix = path.join(dir, 'prefix');
    t.regex(
      (await pstore('activate', 'hello@1', '--prefix', prefix)).stdout,
      /generation 1 \(was 0\)/,
    );
    t.is(await fsp.readFile(path.join(prefix, 'bin', 'hello'), 'utf8'), 'echo hello\n');
    // then the demo, as README tells a new user to run it (it fails on any failing step)
    const demo = await sh('bash', [path.join(clone, 'examples', 'demo.sh')]);
    t.regex(demo.stdout, /python3/, 'the demo ran to its import checks');
  },
);
