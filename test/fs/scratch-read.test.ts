// The reused read buffer of ingest: each read returns exactly the file's bytes, however the sizes
// of the files read before it went; a read past what the buffer keeps gets a buffer of its own.

import { randomBytes } from 'node:crypto';
import fs, { promises as fsp } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { ScratchReader } from '../../lib/fs/scratch-read.js';
import { tempDir } from '../_helpers/tmp.js';

async function readFile(reader: ScratchReader, file: string, size: number): Promise<Buffer> {
  const fd = fs.openSync(file, 'r');
  try {
    return Buffer.from(reader.read(fd, size)); // a copy: the view lives until the next read
  } finally {
    fs.closeSync(fd);
  }
}

test('reads of growing and shrinking sizes each give exactly their file', async (t) => {
  const dir = await tempDir(t, 'scratch');
  const reader = new ScratchReader();
  for (const size of [10, 200_000, 3, 0, 70_000, 1_000_000, 5]) {
    const bytes = randomBytes(size);
    const file = path.join(dir, `f${size}`);
    await fsp.writeFile(file, bytes);
    t.deepEqual(await readFile(reader, file, size), bytes, `${size} bytes`);
  }
});

test('a file shorter than asked gives what it holds', async (t) => {
  const dir = await tempDir(t, 'scratch-short');
  const file = path.join(dir, 'short');
  await fsp.writeFile(file, 'abc');
  t.is((await readFile(new ScratchReader(), file, 100)).toString(), 'abc');
});

test('a read larger than the kept buffer does not overwrite the kept one', async (t) => {
  const dir = await tempDir(t, 'scratch-large');
  const reader = new ScratchReader();
  const small = path.join(dir, 'small');
  const large = path.join(dir, 'large');
  await fsp.writeFile(small, 'small bytes');
  await fsp.writeFile(large, randomBytes(9 * 1024 * 1024));
  const fd = fs.openSync(small, 'r');
  const view = reader.read(fd, 11);
  fs.closeSync(fd);
  await readFile(reader, large, 9 * 1024 * 1024);
  t.is(view.toString(), 'small bytes');
});
