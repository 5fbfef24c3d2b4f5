// The Python reader the reader and crash tests rely on (test/_helpers/prefix_reader.py, with the
// RECORD checker it shares with examples/sage-make) is not blind: on a staged prefix without pstore
// it sees a complete package as complete, and each kind of damage as a violation of that package.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { SITE, castPackage, stagePackage } from '../_helpers/prefix-fixtures.js';
import { startReader, type ReaderResult } from '../_helpers/pyprefix.js';
import { tempDir } from '../_helpers/tmp.js';

async function readOnce(prefix: string): Promise<ReaderResult> {
  return (await startReader({ prefix, polls: 1, seconds: 60 })).done;
}

const DAMAGE: Array<[string, (site: string) => Promise<void>, string]> = [
  [
    'a module changed',
    (s) => fsp.appendFile(path.join(s, 'alpha/core.py'), '#\n'),
    'hash mismatch alpha/core.py',
  ],
  [
    'a module missing',
    (s) => fsp.rm(path.join(s, 'alpha/sub/impl.py')),
    'missing alpha/sub/impl.py',
  ],
  [
    'a listed symlink missing',
    (s) => fsp.rm(path.join(s, '../../../bin/alpha-run')),
    'missing ../../../bin/alpha-run',
  ],
];

test('a complete package is seen, checked and clean', async (t) => {
  const prefix = await stagePackage(
    path.join(await tempDir(t, 'reader-script'), 'p'),
    castPackage('alpha', '1.0'),
  );
  const r = await readOnce(prefix);
  t.is(r.violationCount, 0, JSON.stringify(r.violations));
  t.deepEqual(r.seen, ['alpha==1.0']);
  t.is(r.checked, 1);
});

for (const [what, damage, problem] of DAMAGE) {
  test(`${what}: a file violation of that package`, async (t) => {
    const prefix = await stagePackage(
      path.join(await tempDir(t, 'reader-script'), 'p'),
      castPackage('alpha', '1.0'),
    );
    await damage(path.join(prefix, SITE));
    const r = await readOnce(prefix);
    t.is(r.fileViolationCount, 1, JSON.stringify(r.violations));
    t.true(r.violations[0]!.problems.includes(problem), JSON.stringify(r.violations));
  });
}

test('a module at another version than its distribution is a violation', async (t) => {
  const prefix = await stagePackage(
    path.join(await tempDir(t, 'reader-script'), 'p'),
    castPackage('alpha', '1.0'),
  );
  const v2 = castPackage('alpha', '2.0').tree.get(`${SITE}/alpha/sub/__init__.py`) as {
    data: Buffer;
  };
  // same size as 1.0's (the stale-.pyc case): the RECORD hash and the import both catch it
  await fsp.writeFile(path.join(prefix, SITE, 'alpha/sub/__init__.py'), v2.data);
  const r = await readOnce(prefix);
  t.is(r.fileViolationCount, 1);
  t.true(
    r.violations[0]!.problems.some((p) => p.startsWith('alpha.sub.VERSION is')),
    JSON.stringify(r.violations),
  );
});
