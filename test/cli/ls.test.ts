// `ls` as a user of dpkg -l or pacman -Q expects (issue 10): versions sort within a name as dpkg
// orders them (1.9 before 1.10, 1.0~rc1 before 1.0), columns line up, and a count reads "1 file".

import path from 'node:path';
import test from 'ava';
import { describe, storeCli } from '../_helpers/cli.js';
import { tempDir } from '../_helpers/tmp.js';
import { buildTree } from '../_helpers/tree.js';

test('ls: by name, then version as dpkg orders them; aligned columns; "1 file"', async (t) => {
  const dir = await tempDir(t, 'ls');
  const cli = storeCli(path.join(dir, 'store'));
  const one = await buildTree(path.join(dir, 'one'), { 'bin/x': 'x\n' });
  const two = await buildTree(path.join(dir, 'two'), {
    'bin/x': 'x\n',
    'share/doc': 'a longer file\n',
  });
  // added out of order, so that order of adding cannot pass for order of versions
  for (const [name, version, src] of [
    ['zlib', '1.10', one],
    ['zlib', '1.9', two],
    ['abc', '2.0', one],
    ['zlib', '1.0~rc1', one],
    ['zlib', '1.0', two],
  ] as const) {
    const r = await cli(['add', src, '--name', name, '--version', version]);
    t.is(r.code, 0, describe(r));
  }
  const ls = await cli(['ls']);
  t.is(ls.code, 0, describe(ls));
  const lines = ls.stdout.trimEnd().split('\n');
  t.deepEqual(
    lines.map((l) => l.split(/ +/)[1]),
    ['abc@2.0', 'zlib@1.0~rc1', 'zlib@1.0', 'zlib@1.9', 'zlib@1.10'],
    ls.stdout,
  );
  t.true(lines[0]!.includes(' 1 file '), `singular: ${lines[0]}`);
  t.true(lines[2]!.includes(' 2 files '), `plural: ${lines[2]}`);
  const columnOf = (needle: RegExp) => lines.map((l) => l.search(needle));
  t.is(new Set(columnOf(/[a-z]+@/)).size, 1, `names start in one column:\n${ls.stdout}`);
  t.is(new Set(lines.map((l) => l.length)).size, 1, `sizes end in one column:\n${ls.stdout}`);
  t.is(
    new Set(lines.map((l) => l.indexOf(' file') + (l.includes(' files') ? 1 : 0))).size,
    1,
    `counts align right:\n${ls.stdout}`,
  );
});
