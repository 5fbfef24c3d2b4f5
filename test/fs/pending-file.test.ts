// lib/fs/atomic.ts PendingFile: a file written at once whose rename waits for place() (a new
// prefix's prefix.json, put in place with its first journal). Real files in a temp directory.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { PendingFile } from '../../lib/fs/atomic.js';
import { tempDir } from '../_helpers/tmp.js';

const names = (dir: string) => fsp.readdir(dir).then((n) => n.sort());

test('nothing at the name until place(); then the whole file, once, and no temp', async (t) => {
  const dir = await tempDir(t, 'pending');
  const dest = path.join(dir, 'prefix.json');
  const pending = new PendingFile(dest, '{"a":1}\n');
  const [temp] = await names(dir);
  t.regex(temp ?? '', /^\.pstore-tmp-/, 'written under a temp name');
  t.is(await fsp.readFile(path.join(dir, temp!), 'utf8'), '{"a":1}\n');
  await pending.place();
  await pending.place(); // once, however often asked
  t.deepEqual(await names(dir), ['prefix.json']);
  t.is(await fsp.readFile(dest, 'utf8'), '{"a":1}\n');
  t.is((await fsp.stat(dest)).mode & 0o777, 0o644);
});

test('discard() leaves nothing, and a placed file stays placed', async (t) => {
  const dir = await tempDir(t, 'pending');
  await new PendingFile(path.join(dir, 'a.json'), 'a').discard();
  t.deepEqual(await names(dir), []);
  const placed = new PendingFile(path.join(dir, 'b.json'), 'b');
  await placed.place();
  await placed.discard();
  t.deepEqual(await names(dir), ['b.json']);
});

test('a file that cannot be written throws at once, naming a path in its directory', (t) => {
  const dest = path.join('/nonexistent-pstore-dir', 'prefix.json');
  const err = t.throws(() => new PendingFile(dest, 'x')) as NodeJS.ErrnoException;
  t.is(err.code, 'ENOENT');
  t.is(path.dirname(err.path ?? ''), path.dirname(dest), err.message);
});
