// How `add` makes its objects durable before the manifest (SPEC.md §Durability), seen in the
// system calls of a real `add` under strace: a few objects are fsynced each, with the directories
// naming them and no `sync` process; many are flushed with one syncfs; either way before the
// manifest's temp file is written.

import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { HAS_STRACE, straceCli } from '../_helpers/strace.js';
import { buildTree } from '../_helpers/tree.js';
import { tempDir, tempStore } from '../_helpers/tmp.js';

const traced = HAS_STRACE ? test : test.skip;

/** The paths fsynced (in order), whether syncfs ran, and the first manifest temp's position. */
interface Trace {
  fsynced: string[];
  syncfs: boolean;
  /** how many syncfs calls ran, in any process */
  syncfsCalls: number;
  /** the programs the add and its children ran, one per process, in order */
  execs: string[];
  lines: string[];
}

async function tracedAdd(src: string, store: string, log: string): Promise<Trace> {
  const args = ['add', src, '--name', 'p', '--version', '1', '--store', store, '-q'];
  straceCli(log, 'fsync,syncfs,openat,execve', args);
  const lines = (await fsp.readFile(log, 'utf8')).split('\n');
  const fsynced = lines.flatMap((l) => /fsync\(\d+<([^>]*)>\)/.exec(l)?.slice(1) ?? []);
  const syncfsCalls = lines.filter((l) => /\bsyncfs\(/.test(l)).length;
  // One process tries each PATH directory in turn: one program per process (pid) that ran one.
  const ran = new Map<string, string>();
  for (const l of lines) {
    const m = /^(\d+)\s+execve\("[^"]*", \["([^"]*)"/.exec(l);
    if (m) ran.set(m[1]!, m[2]!);
  }
  const execs = [...ran.values()];
  return { fsynced, syncfs: syncfsCalls > 0, syncfsCalls, execs, lines };
}

function firstLine(trace: Trace, pattern: RegExp): number {
  return trace.lines.findIndex((l) => pattern.test(l));
}

traced(
  'a few objects: each fsynced, with its shard and the store, before the manifest',
  async (t) => {
    const dir = await tempDir(t, 'flush-few');
    const src = await buildTree(path.join(dir, 'src'), { 'a.txt': 'a\n', 'bin/b': 'b\n' });
    const store = await tempStore(t);
    const trace = await tracedAdd(src, store, path.join(dir, 'strace.log'));
    t.false(trace.syncfs, 'no syncfs');
    const objects = trace.fsynced.filter((p) => /objects-v1\/[0-9a-f]{2}\/[0-9a-f]{126}$/.test(p));
    t.is(objects.length, 2, 'each object');
    const shards = new Set(objects.map((p) => path.dirname(p)));
    for (const d of [...shards, path.join(store, 'objects-v1'), store])
      t.true(trace.fsynced.includes(d), `${d} fsynced`);
    const lastObjectFlush = Math.max(
      ...objects.map((o) => firstLine(trace, new RegExp(`fsync.*${path.basename(o)}`))),
    );
    const manifestTemp = firstLine(trace, /entries-v1\/[0-9a-f]{2}\/\.pstore-tmp/);
    t.true(manifestTemp > lastObjectFlush, 'objects flushed before the manifest is written');
  },
);

traced('many objects: one syncfs before the manifest, no fsync per object', async (t) => {
  const dir = await tempDir(t, 'flush-many');
  const spec = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}`, `file ${i}\n`]));
  const src = await buildTree(path.join(dir, 'src'), spec);
  const store = await tempStore(t);
  const trace = await tracedAdd(src, store, path.join(dir, 'strace.log'));
  t.is(trace.syncfsCalls, 1, 'one syncfs: too few bytes for a background one');
  t.false(
    trace.fsynced.some((p) => p.includes('objects-v1')),
    'no object fsynced',
  );
  const syncfs = firstLine(trace, /\bsyncfs\(/);
  t.true(firstLine(trace, /entries-v1\/[0-9a-f]{2}\/\.pstore-tmp/) > syncfs, 'syncfs first');
});

/** An add of `count` files of 2 MiB of distinct bytes, traced. */
async function tracedBigAdd(t: ExecutionContext, count: number): Promise<Trace> {
  const dir = await tempDir(t, 'flush-big');
  const src = path.join(dir, 'src');
  await fsp.mkdir(src);
  for (let i = 0; i < count; i++)
    await fsp.writeFile(path.join(src, `f${i}`), randomBytes(2 << 20));
  return tracedAdd(src, await tempStore(t), path.join(dir, 'strace.log'));
}

/** No syncfs runs after the manifest's temp file is opened. */
function flushedBeforeManifest(t: ExecutionContext, trace: Trace): void {
  const lastSyncfs = trace.lines.findLastIndex((l) => /\bsyncfs\(/.test(l));
  const manifestTemp = firstLine(trace, /entries-v1\/[0-9a-f]{2}\/\.pstore-tmp/);
  t.true(manifestTemp > lastSyncfs, 'every syncfs before the manifest is written');
}

traced('past 16 MiB written: a background syncfs as well, both before the manifest', async (t) => {
  // 10 × 2 MiB: a background flush starts after the 8th object, the add goes on
  const trace = await tracedBigAdd(t, 10);
  t.is(trace.syncfsCalls, 2, 'a background syncfs and the final one');
  flushedBeforeManifest(t, trace);
});

traced('past 32 MiB written: every flush served by one helper process', async (t) => {
  // 24 × 2 MiB: background flushes after 16 and 32 MiB (when none is running), then the final one
  const trace = await tracedBigAdd(t, 24);
  t.true(trace.syncfsCalls >= 2, `background and final syncfs (${trace.syncfsCalls})`);
  t.deepEqual(
    trace.execs.filter((p) => p !== 'sync'),
    ['node', 'sh'],
    'node, then one helper shell',
  );
  t.is(trace.execs.filter((p) => p === 'sync').length, trace.syncfsCalls, 'a sync per syncfs');
  flushedBeforeManifest(t, trace);
});
