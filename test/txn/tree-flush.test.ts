// When an activation flushes (SPEC.md §Durability, §Generations layout), seen in the system calls
// of a real `activate` under strace. A live `inplace` prefix is flushed between its files and its
// markers (readers must never see a marker before the files it lists are durable); a
// `generations` tree, which no reader can reach until its rename publishes it, is flushed once,
// after its last file and marker are in it and before that rename.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { runCli } from '../_helpers/cli.js';
import { HAS_STRACE, straceCli } from '../_helpers/strace.js';
import { buildTree, type TreeSpec } from '../_helpers/tree.js';
import { tempDir, tempStore } from '../_helpers/tmp.js';

const traced = HAS_STRACE ? test : test.skip;

const MARKER = 'site/a-1.dist-info';

/** More directories than a phase fsyncs one by one (64): the phase's flush is one syncfs. */
function wideTree(): TreeSpec {
  const spec: TreeSpec = { [`${MARKER}/METADATA`]: 'Name: a\n' };
  for (let i = 0; i < 70; i++) spec[`d${i}/f`] = `file ${i}\n`;
  return spec;
}

/** The lines of a traced activation, one system call each (interrupted calls joined). */
async function tracedActivate(
  t: ExecutionContext,
  layout: string,
  calls = 'fsync,syncfs,link,linkat,rename,renameat,renameat2',
  env: Record<string, string> = {},
): Promise<string[]> {
  const dir = await tempDir(t, `tree-flush-${layout}`);
  const store = await tempStore(t);
  const src = await buildTree(path.join(dir, 'src'), wideTree());
  const add = await runCli(['add', src, '--name', 'a', '--version', '1', '--store', store, '-q']);
  t.is(add.code, 0, add.stderr);
  const log = path.join(dir, 'strace.log');
  straceCli(
    log,
    calls,
    [
      ...['activate', 'a@1', '--prefix', path.join(dir, 'p'), '--layout', layout],
      ...['--store', store, '-q'],
    ],
    env,
  );
  return joinResumed((await fsp.readFile(log, 'utf8')).split('\n'));
}

/** strace splits a call another thread interrupted into `<unfinished ...>` and `<... resumed>`. */
function joinResumed(lines: string[]): string[] {
  const open = new Map<string, number>();
  const out: string[] = [];
  for (const l of lines) {
    const pid = l.split(/\s+/)[0]!;
    if (l.includes('<unfinished ...>')) {
      open.set(pid, out.length);
      out.push(l.replace('<unfinished ...>', ''));
    } else if (l.includes(' resumed>') && open.has(pid)) {
      const at = open.get(pid)!;
      out[at] += l.slice(l.indexOf(' resumed>') + ' resumed>'.length);
      open.delete(pid);
    } else out.push(l);
  }
  return out;
}

const isFlush = (l: string) => /\bsyncfs\(|\bfsync\(/.test(l);
/** A link or rename whose new name is `dest` or below it (strace quotes the last path last). */
const placesUnder = (l: string, dest: RegExp) =>
  /\b(link|linkat|rename|renameat|renameat2)\(/.test(l) &&
  dest.test(/"([^"]*)"[^"]*$/.exec(l)?.[1] ?? '');

function lastIndex(lines: readonly string[], pred: (l: string) => boolean): number {
  for (let i = lines.length - 1; i >= 0; i--) if (pred(lines[i]!)) return i;
  return -1;
}

traced(
  'a generations tree is flushed once, after its files and markers, before it is published',
  async (t) => {
    const lines = await tracedActivate(t, 'generations');
    const inBuild = /\/trees\/\.pstore-tmp-[^/]*\/./;
    const lastPlaced = lastIndex(lines, (l) => placesUnder(l, inBuild));
    const marker = lastIndex(lines, (l) => placesUnder(l, new RegExp(`/${MARKER}$`)));
    const publish = lines.findIndex((l) => placesUnder(l, /\/trees\/1$/));
    t.true(lastPlaced > 0 && marker > 0 && publish > 0, lines.join('\n'));
    t.true(marker <= lastPlaced, 'the marker unit is placed in the unpublished tree');
    const flushes = lines
      .map((l, i) => [l, i] as const)
      .filter(
        ([l, i]) => isFlush(l) && i < publish && (l.includes('syncfs(') || l.includes('/trees/')),
      );
    t.is(flushes.filter(([l]) => l.includes('syncfs(')).length, 1, 'one syncfs for the tree');
    for (const [l, i] of flushes)
      t.true(i > lastPlaced, `no flush of the tree before it is whole: ${l}`);
  },
);

for (const [threads, env] of [
  ['one thread', {}],
  ['two threads', { PSTORE_PLACE_THREADS: '2' }],
] as const)
  traced(
    `a live inplace prefix is flushed between its files and its markers, and after them (${threads})`,
    async (t) => {
      const lines = await tracedActivate(t, 'inplace', undefined, env);
      const lastFile = lastIndex(lines, (l) => placesUnder(l, /\/p\/d\d+\/f$/));
      const marker = lastIndex(lines, (l) => placesUnder(l, new RegExp(`/p/${MARKER}$`)));
      t.true(lastFile > 0 && marker > lastFile, lines.join('\n'));
      t.true(
        lines.slice(lastFile, marker).some((l) => l.includes('syncfs(')),
        'the files are flushed before the marker unit appears',
      );
      t.true(lines.slice(marker).some(isFlush), 'the marker unit is flushed before the commit');
    },
  );

traced(
  'a plan placed on two threads has its syncfs made through one `sh` helper for the apply',
  async (t) => {
    const lines = await tracedActivate(t, 'inplace', 'execve,syncfs', {
      PSTORE_PLACE_THREADS: '2',
    });
    // strace -f: each line begins with its process id; an execve tried along PATH fails first.
    const pidOf = (l: string) => l.split(/\s+/)[0];
    const execs = (name: string) =>
      lines.filter((l) => new RegExp(`execve\\("[^"]*/${name}", .*= 0$`).test(l));
    const [sh, ...more] = execs('sh');
    t.truthy(sh, lines.join('\n'));
    t.deepEqual(more, [], 'one helper for the whole apply');
    const syncfs = lines.filter((l) => l.includes('syncfs('));
    t.true(syncfs.length > 0, 'the files are flushed with a syncfs');
    const syncs = new Set(execs('sync').map(pidOf));
    for (const l of syncfs) t.true(syncs.has(pidOf(l)), `by a sync -f: ${l}`);
    t.is(syncs.size, syncfs.length, 'one sync -f a flush');
  },
);
