// lib/txn/link.ts: what a linker reports of the files it made, the fact a generations record keeps
// as `hardLinked` (SPEC.md §Check, *Kept entries*). Real files in a temp directory.

import test from 'ava';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { createLinker } from '../../lib/txn/link.js';
import { tempDir } from '../_helpers/tmp.js';

async function source(t: import('ava').ExecutionContext): Promise<{ dir: string; src: string }> {
  const dir = await tempDir(t, 'linker');
  const src = path.join(dir, 'object');
  await fsp.writeFile(src, 'bytes\n', { mode: 0o444 });
  return { dir, src };
}

test('auto on one filesystem: hard links only; a copy or a reflink ends "only hard links"', async (t) => {
  const { dir, src } = await source(t);
  const auto = createLinker('auto');
  t.true(auto.onlyHardLinks, 'nothing made yet');
  t.is(auto.link(src, path.join(dir, 'a')), 'hardlink');
  t.is(auto.method, 'hardlink');
  t.true(auto.onlyHardLinks);
  t.is((await fsp.stat(path.join(dir, 'a'))).nlink, 2);

  const copy = createLinker('copy');
  t.is(copy.link(src, path.join(dir, 'b')), 'copy');
  t.false(copy.onlyHardLinks);
});

test("adopt: another thread's settled method and its copies count here", (t) => {
  const linker = createLinker('auto');
  linker.adopt({ method: 'hardlink', onlyHardLinks: true });
  t.is(linker.method, 'hardlink');
  t.true(linker.onlyHardLinks);
  linker.adopt({ method: 'copy', onlyHardLinks: false });
  t.is(linker.method, 'hardlink', 'a settled method stays');
  t.false(linker.onlyHardLinks, 'a file the other thread copied');
});
