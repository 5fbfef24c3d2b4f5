// The package as users get it (issue 10): CommonJS callers can require() it (Node ≥ 20.19's
// require(esm), through the `default` export condition), and the packed tarball ships what its
// source maps point at, a LICENSE, and no native addon that would need a compiler.

import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { REPO, assertBuilt } from '../_helpers/cli.js';

const run = promisify(execFile);

test('require() from CommonJS gives the same API as import', async (t) => {
  assertBuilt();
  const cwd = await fsp.mkdtemp(path.join(os.tmpdir(), 'pstore-cjs-'));
  t.teardown(() => fsp.rm(cwd, { recursive: true, force: true }));
  await fsp.writeFile(
    path.join(cwd, 'use.cjs'),
    `
    const pstore = require(${JSON.stringify(REPO)});
    const store = pstore.openStore({ path: require('node:path').join(__dirname, 'store') });
    console.log(JSON.stringify({ openStore: typeof pstore.openStore, error: typeof pstore.PstoreError, root: typeof store.root }));
  `,
  );
  const { stdout } = await run(process.execPath, [path.join(cwd, 'use.cjs')], { cwd });
  t.deepEqual(JSON.parse(stdout), { openStore: 'function', error: 'function', root: 'string' });
});

test('npm pack: every source map points at a shipped file; LICENSE is in; no native build step', async (t) => {
  assertBuilt();
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: REPO,
    maxBuffer: 64 * 1024 * 1024,
  });
  const [pack] = JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>;
  const shipped = new Set(pack!.files.map((f) => f.path));
  t.true(shipped.has('LICENSE'));
  const missing: string[] = [];
  for (const file of shipped) {
    if (!file.endsWith('.map')) continue;
    const map = JSON.parse(await fsp.readFile(path.join(REPO, file), 'utf8')) as {
      sources: string[];
    };
    for (const src of map.sources) {
      const rel = path.posix.normalize(path.posix.join(path.posix.dirname(file), src));
      if (!shipped.has(rel)) missing.push(`${file} → ${rel}`);
    }
  }
  t.deepEqual(missing, [], 'source maps pointing at files the package does not ship');
  // No installed dependency may need a C compiler: npm's lockfile marks every package with an
  // install step (scripts, or a binding.gyp); the one allowed loads a prebuilt binary of this
  // platform (node-gyp-build), which must be there.
  const lock = JSON.parse(await fsp.readFile(path.join(REPO, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean; hasInstallScript?: boolean }>;
  };
  const PREBUILT = ['node_modules/classic-level'];
  const building = Object.entries(lock.packages)
    .filter(([, p]) => p.hasInstallScript === true && p.dev !== true)
    .map(([where]) => where);
  t.deepEqual(building, PREBUILT, 'runtime dependencies with an install step');
  for (const where of PREBUILT) {
    const platform = `${process.platform}-${process.arch}`;
    const prebuilds = await fsp.readdir(path.join(REPO, where, 'prebuilds'));
    t.true(prebuilds.includes(platform), `${where} ships a prebuilt binary for ${platform}`);
  }
});
