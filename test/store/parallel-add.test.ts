// Many pstore processes on one store at once: every add succeeds, nothing is lost or half-written.

import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { describe, finished, spawnCli, storeCli, type CliResult } from '../_helpers/cli.js';
import { assertCleanStore, expectedEntryId, lsJson, objectFiles } from '../_helpers/store.js';
import { buildTar } from '../_helpers/tar.js';
import {
  buildTree,
  describeTree,
  file,
  manyFiles,
  symlink,
  type TreeSpec,
} from '../_helpers/tree.js';
import { tempDir, tempStore } from '../_helpers/tmp.js';

interface Job {
  label: string;
  /** CLI arguments after `--store STORE` */
  args: string[];
  input?: Buffer;
  /** the id this add must print */
  expectedId: string;
}

const SHARED = manyFiles(120, { prefix: 'share/common/d', salt: 'shared ' });

function packageSpec(i: number): TreeSpec {
  return {
    ...SHARED,
    [`bin/tool${i}`]: file(`#!/bin/sh\necho ${i}\n`, 0o755),
    'bin/common-tool': file('#!/bin/sh\necho common\n', 0o755),
    ...manyFiles(15, { prefix: `lib/pkg${i}/d`, salt: `own ${i} ` }),
    [`lib/libp${i}.so`]: symlink(`pkg${i}/d0/f0.txt`),
    [`var/empty${i}`]: {},
  };
}

/** The 16 jobs, staged in a temp dir of their own, and an empty store for them. */
async function jobsAndStore(t: ExecutionContext, tag: string) {
  const dir = await tempDir(t, tag);
  return { dir, jobs: await makeJobs(t, dir), store: await tempStore(t) };
}

/** Ten distinct packages, some as directories, some as .tar/.tar.gz, one on stdin; then repeats. */
async function makeJobs(t: ExecutionContext, dir: string): Promise<Job[]> {
  const jobs: Job[] = [];
  const srcs: string[] = [];
  for (let i = 0; i < 10; i++) {
    const src = await buildTree(path.join(dir, `pkg${i}`), packageSpec(i));
    srcs.push(src);
    const expectedId = expectedEntryId(`pkg${i}`, '1.0', [], await describeTree(src));
    const base = ['--name', `pkg${i}`, '--version', '1.0', '--json'];
    if (i % 4 === 1) {
      const tarFile = path.join(dir, `pkg${i}.tar`);
      execFileSync('tar', ['-C', src, '-cf', tarFile, '.']);
      jobs.push({ label: `pkg${i} (tar)`, args: ['add', tarFile, ...base], expectedId });
    } else if (i % 4 === 2) {
      const tgz = path.join(dir, `pkg${i}.tgz`);
      execFileSync('tar', ['-C', src, '-czf', tgz, '.']);
      jobs.push({ label: `pkg${i} (tgz)`, args: ['add', tgz, ...base], expectedId });
    } else if (i === 3) {
      const tarFile = path.join(dir, `pkg${i}-stdin.tar`);
      execFileSync('tar', ['-C', src, '-cf', tarFile, '.']);
      jobs.push({
        label: `pkg${i} (stdin)`,
        args: ['add', '-', ...base],
        input: await fsp.readFile(tarFile),
        expectedId,
      });
    } else {
      jobs.push({ label: `pkg${i} (dir)`, args: ['add', src, ...base], expectedId });
    }
  }
  // identical adds (same content, name, version) racing each other and the originals
  for (const i of [0, 0, 1, 5]) {
    jobs.push({
      label: `pkg${i} again`,
      args: ['add', srcs[i]!, '--name', `pkg${i}`, '--version', '1.0', '--json'],
      expectedId: jobs[i]!.expectedId,
    });
  }
  // the same content under another name: another entry, the same objects
  for (const i of [6, 7]) {
    jobs.push({
      label: `alias of pkg${i}`,
      args: ['add', srcs[i]!, '--name', `alias${i}`, '--version', '2', '--json'],
      expectedId: expectedEntryId(`alias${i}`, '2', [], await describeTree(srcs[i]!)),
    });
  }
  t.is(jobs.length, 16);
  return jobs;
}

function startAll(store: string, jobs: readonly Job[]): Array<Promise<CliResult>> {
  return jobs.map((j) =>
    finished(spawnCli(['--store', store, ...j.args], j.input ? { input: j.input } : {}), 120_000),
  );
}

function assertAllAdded(
  t: ExecutionContext,
  jobs: readonly Job[],
  results: readonly CliResult[],
): void {
  results.forEach((r, i) => {
    const job = jobs[i]!;
    t.is(r.code, 0, `${job.label}: ${describe(r)}`);
    if (r.code === 0)
      t.is(
        (JSON.parse(r.stdout) as { id: string }).id,
        job.expectedId,
        `${job.label}: the expected id`,
      );
  });
}

test.serial(
  '16 concurrent adds on one store all succeed; ls shows every entry; verify is clean',
  async (t) => {
    const { jobs, store } = await jobsAndStore(t, 'parallel');

    const results = await Promise.all(startAll(store, jobs));
    assertAllAdded(t, jobs, results);

    const expected = [...new Set(jobs.map((j) => j.expectedId))].sort();
    t.is(expected.length, 12);
    const listed = await lsJson(t, store);
    t.deepEqual(listed.map((e) => e.id).sort(), expected, 'ls shows every entry exactly once');
    t.deepEqual(
      [...new Set(listed.map((e) => e.seq))].length,
      listed.length,
      'every entry has its own seq',
    );
    await assertCleanStore(t, store);
  },
);

test.serial(
  '16 concurrent adds while gc runs: all succeed, nothing they need is swept, verify is clean',
  async (t) => {
    const { dir, jobs, store } = await jobsAndStore(t, 'parallel-gc');
    const cli = storeCli(store);

    // Garbage for gc to sweep that the adds need: a failed add left the shared objects unreferenced,
    // plus stale temporary files. An add that finds such an object present must not lose it to gc.
    const hostile = path.join(dir, 'hostile.tar');
    const shared = Object.entries(SHARED).map(([p, data]) => ({ path: p, data: data as string }));
    await fsp.writeFile(hostile, buildTar([...shared, { path: '../escape', data: 'x' }]));
    const failed = await cli(['add', hostile, '--name', 'evil', '--version', '1']);
    t.is(failed.code, 7, describe(failed));
    t.is(
      (await objectFiles(store)).length,
      120,
      'the failed add left the shared objects behind, unreferenced',
    );
    await fsp.mkdir(path.join(store, 'tmp'), { recursive: true });
    await fsp.writeFile(path.join(store, 'tmp', '.pstore-obj-1-aaaaaaaaaaaa'), 'stale');

    const gcs: Array<Promise<CliResult>> = [
      finished(spawnCli(['--store', store, 'gc', '--json']), 120_000),
    ];
    const first = startAll(store, jobs.slice(0, 8));
    await new Promise((r) => setTimeout(r, 150));
    gcs.push(finished(spawnCli(['--store', store, 'gc', '--json']), 120_000));
    const second = startAll(store, jobs.slice(8));
    gcs.push(finished(spawnCli(['--store', store, 'gc', '--json']), 120_000));
    const results = await Promise.all([...first, ...second]);
    assertAllAdded(t, jobs, results);
    for (const g of await Promise.all(gcs)) t.is(g.code, 0, `gc: ${describe(g)}`);

    const expected = [...new Set(jobs.map((j) => j.expectedId))].sort();
    t.deepEqual((await lsJson(t, store)).map((e) => e.id).sort(), expected);
    const verify = await cli(['verify', '--json']);
    t.is(verify.code, 0, `verify after the race: ${describe(verify)}`);
    const gc = await cli(['gc', '--json']);
    t.is(gc.code, 0, describe(gc));
    t.like(JSON.parse(gc.stdout), { entriesRemoved: [] });
    await assertCleanStore(t, store);
  },
);
