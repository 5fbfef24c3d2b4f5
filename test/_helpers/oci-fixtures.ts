// A source store for the OCI tests: entries added from a directory, a tar file and a tar stream,
// activated into a prefix and locked (through the library: setup, not the commands under test).

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { ExecutionContext } from 'ava';
import { openStore, writeLockfile } from '../../lib/index.js';
import { describe, jsonOut, storeCli, type CliOptions, type CliResult } from './cli.js';
import { serialAdd } from './prefix-fixtures.js';
import { assertCleanStore } from './store.js';
import { buildTar } from './tar.js';
import { tempDir } from './tmp.js';
import { buildTree, file, manyFiles, symlink } from './tree.js';

export interface SourceStore {
  root: string;
  store: string;
  prefix: string;
  lockfile: string;
  cli: (args: readonly string[], opts?: CliOptions) => Promise<CliResult>;
}

/** Run a CLI command that must succeed, failing the test with its whole output otherwise. */
export async function must(
  t: ExecutionContext,
  cli: SourceStore['cli'],
  args: readonly string[],
  opts?: CliOptions,
): Promise<CliResult> {
  const r = await cli(args, opts);
  t.is(r.code, 0, `${args.join(' ')}: ${describe(r)}`);
  if (r.code !== 0) throw new Error(`${args.join(' ')} failed`);
  return r;
}

export async function sourceStore(
  t: ExecutionContext,
  opts: { files?: number } = {},
): Promise<SourceStore> {
  const root = await tempDir(t, 'oci-src');
  const store = path.join(root, 'store');
  const prefix = path.join(root, 'prefix');
  const lockfile = path.join(root, 'pstore.lock');
  const cli = storeCli(store);
  const dir = await buildTree(path.join(root, 'dir-src'), {
    'usr/bin/tool': file('#!/bin/sh\necho tool\n', 0o755),
    'usr/lib/libt.so.1': file('\x7fELF t\n'),
    'usr/lib/libt.so': symlink('libt.so.1'),
    'usr/share/empty': {},
    ...manyFiles(opts.files ?? 40, { prefix: 'usr/share/tool/d', distinct: 10 }),
  });
  // Setup through the library (push, pull and their failures are what the OCI tests spawn).
  const opened = openStore({ path: store });
  await serialAdd(() => opened.add(dir, { name: 'tool', version: '1.0' }));
  const tarFile = path.join(root, 'lib.tar');
  await fsp.writeFile(
    tarFile,
    buildTar([
      { path: 'usr/lib/libfoo.so.2', data: 'foo library\n' },
      { path: 'usr/share/doc/foo/README', data: 'foo\n' },
    ]),
  );
  await serialAdd(() => opened.add(tarFile, { name: 'libfoo', version: '2.1' }));
  const streamed = Readable.from([buildTar([{ path: 'etc/bar.conf', data: 'bar=1\n' }])]);
  await serialAdd(() => opened.add({ tar: streamed }, { name: '@scope/bar', version: '0.3+b1' }));
  const p = opened.prefix(prefix);
  await p.activate(['tool', 'libfoo', '@scope/bar']);
  await writeLockfile(lockfile, await p.lock());
  return { root, store, prefix, lockfile, cli };
}

/** A store holding one unrelated entry, to show a failed pull leaves it exactly as it was. */
export async function targetStore(t: ExecutionContext) {
  const root = await tempDir(t, 'oci-target');
  const store = path.join(root, 'store');
  const cli = storeCli(store);
  const own = await buildTree(path.join(root, 'own'), { 'x.txt': 'x\n' });
  await serialAdd(() => openStore({ path: store }).add(own, { name: 'own', version: '1' }));
  const assertUnchanged = async () => {
    const ls = jsonOut<Array<{ name: string }>>(await must(t, cli, ['ls', '--json']));
    t.deepEqual(
      ls.map((e) => e.name),
      ['own'],
      'nothing was imported',
    );
    await assertCleanStore(t, store);
  };
  return { cli, assertUnchanged };
}

/** Blob uploads a proxy saw: upload sessions opened, and bodies sent. */
export function uploadRequests(log: { requests: Array<{ method: string; path: string }> }): number {
  return log.requests.filter(
    (q) => q.path.includes('/blobs/uploads/') && ['POST', 'PUT', 'PATCH'].includes(q.method),
  ).length;
}
