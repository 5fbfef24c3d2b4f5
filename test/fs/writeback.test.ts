// The flush helper of ingest (lib/fs/writeback.ts): one `sh` runs `sync -f ROOT` per request, so an
// add pays one process start for all its flushes. A failed flush is EPSTORE_IO naming the root,
// and a failed background flush fails the ingest at its end.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { PstoreError } from '../../lib/core/errors.js';
import { EarlyWriteback, FilesystemFlusher } from '../../lib/fs/writeback.js';
import { tempDir } from '../_helpers/tmp.js';

function isIo(err: unknown, subject: string): boolean {
  return err instanceof PstoreError && err.code === 'EPSTORE_IO' && err.subject === subject;
}

/** A flusher for `root`, closed (its helper ended) when `use` is done. */
async function withFlusher(
  root: string,
  use: (flusher: FilesystemFlusher) => Promise<void>,
): Promise<void> {
  const flusher = new FilesystemFlusher(root);
  try {
    await use(flusher);
  } finally {
    flusher.close();
  }
}

/** This process's living `sh` children (pids), from /proc: the flush helpers. */
async function shChildren(): Promise<number[]> {
  const found: number[] = [];
  for (const name of await fsp.readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await fsp.readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (stat.includes(' (sh) ') && Number(ppid) === process.pid && state !== 'Z')
      found.push(Number(name));
  }
  return found;
}

// Serial: no other test of this file starts a helper meanwhile.
test.serial('one helper serves many flushes, and a new one starts after close', async (t) => {
  await withFlusher(await tempDir(t, 'flusher'), async (flusher) => {
    await flusher.flush();
    const first = await shChildren();
    t.is(first.length, 1, `one helper: ${first.join(' ')}`);
    await Promise.all([flusher.flush(), flusher.flush(), flusher.flush()]);
    t.deepEqual(await shChildren(), first, 'the same helper served the next three flushes');
    flusher.close();
    await flusher.flush(); // a fresh helper
    const fresh = (await shChildren()).filter((pid) => !first.includes(pid));
    t.is(fresh.length, 1, 'a new helper after close');
  });
});

test.serial(
  'a helper killed with a flush under way fails that flush; the next ones run alone',
  async (t) => {
    const root = await tempDir(t, 'flusher-killed');
    await withFlusher(root, async (flusher) => {
      await flusher.flush(); // the helper is up and has served a flush
      const [helper] = await shChildren();
      t.truthy(helper);
      // Killed, and asked at once (its exit is seen on a later turn): this flush's `sync` may have
      // taken a write-back error that a new one would not see, so it is not called flushed.
      process.kill(helper!, 'SIGKILL');
      const err = await t.throwsAsync(flusher.flush());
      t.true(isIo(err, root), String(err));
      await flusher.flush(); // by a `sync -f` of its own
      t.deepEqual(await shChildren(), [], 'no helper started again');
    });
  },
);

test('a flush that fails is EPSTORE_IO naming the root; the helper serves the next one', async (t) => {
  const gone = path.join(await tempDir(t, 'flusher-gone'), 'missing');
  await withFlusher(gone, async (flusher) => {
    const err = await t.throwsAsync(flusher.flush());
    t.true(isIo(err, gone), String(err));
    const again = await t.throwsAsync(flusher.flush());
    t.true(isIo(again, gone), 'answered again, not hung');
  });
});

test('a background flush that failed fails the ingest when it finishes', async (t) => {
  const gone = path.join(await tempDir(t, 'writeback-gone'), 'missing');
  await withFlusher(gone, async (flusher) => {
    const writeback = new EarlyWriteback(flusher, 1024);
    writeback.wrote(100); // below the threshold: no flush
    await writeback.finish();
    writeback.wrote(2000);
    const err = await t.throwsAsync(writeback.finish());
    t.true(isIo(err, gone), String(err));
  });
});
