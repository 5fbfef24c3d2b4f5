// A wheel upgraded (v1 → v2 → v1 …) in a prefix while a python3 reader imports it and lists
// distributions: the reader never sees a half-installed state (the .dist-info is a marker unit,
// placed last and removed first), as test/concurrency/prefix-readers.test.ts proves for trees.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { describe, storeCli } from '../_helpers/cli.js';
import { startReader } from '../_helpers/pyprefix.js';
import { tempDir } from '../_helpers/tmp.js';
import { buildWheel } from '../_helpers/wheels.js';

const SITE = 'usr/lib/python3/dist-packages';

function versionedWheel(dir: string, version: string): string {
  const files: Record<string, string> = { 'wpkg/__init__.py': `VERSION = '${version}'\n` };
  for (let i = 0; i < 20; i++) files[`wpkg/m${i}.py`] = `VERSION = '${version}'\n`;
  files[`wpkg/only_${version.replace('.', '_')}.py`] = `VERSION = '${version}'\n`;
  return buildWheel(dir, {
    name: 'wpkg',
    version,
    files,
    entryPoints: '[console_scripts]\nwpkg = wpkg:main\n',
  });
}

test('wheel upgrades under a python3 reader: zero half-installed states', async (t) => {
  const dir = await tempDir(t, 'wreaders');
  const cli = storeCli(path.join(dir, 'store'));
  const layout = [
    '--path',
    `purelib=${SITE}`,
    '--path',
    `platlib=${SITE}`,
    '--path',
    'scripts=usr/bin',
  ];
  for (const v of ['1.0', '2.0']) {
    const r = await cli(['add', versionedWheel(dir, v), '--compile', ...layout, '-q']);
    t.is(r.code, 0, describe(r));
  }
  const prefix = path.join(dir, 'prefix');
  t.is((await cli(['activate', 'wpkg@1.0', '--prefix', prefix, '-q'])).code, 0);
  const stopFile = path.join(dir, 'stop');
  const reader = await startReader({ prefix, polls: 50, stopFile, seconds: 240 });
  for (let i = 0; i < 8; i++) {
    const r = await cli([
      'activate',
      `wpkg@${i % 2 === 0 ? '2.0' : '1.0'}`,
      '--prefix',
      prefix,
      '-q',
    ]);
    t.is(r.code, 0, describe(r));
  }
  await fsp.writeFile(stopFile, '');
  const result = await reader.done;
  t.log(`polls ${result.polls}, checked ${result.checked}, inconclusive ${result.inconclusive}`);
  t.is(result.violationCount, 0, JSON.stringify(result.violations.slice(0, 3)));
  t.true(result.checked > 0);
  t.true(result.seen.some((s) => s.startsWith('wpkg==')));
  // the shipped checked-hash .pyc are package files: an upgrade keeps them (it once swept them)
  const verified = await cli(['verify', '--prefix', prefix]);
  t.is(verified.code, 0, describe(verified));
});
