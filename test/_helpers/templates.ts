// Stores and prefixes made once per test file (through the library: setup, not the contract under
// test) and copied into each test, so that a test starts from them without spawning the CLI to
// make them.

import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ExecutionContext } from 'ava';
import type { LayoutKind } from '../../lib/index.js';
import { prefixPaths } from '../../lib/prefix/layout.js';
import { tempDir } from './tmp.js';

const run = promisify(execFile);

/**
 * Copy the prefix `name` of template folder `tpl` (and its state directory, wherever the layout
 * keeps it) into `work`; returns the copy's path. Package files are hard-linked, as pstore placed
 * them (the store's object inodes, which nothing writes in place); the state directory is copied,
 * so each copy has its own lock, records and ownership index; a generations prefix's `trees/` are
 * hard-linked again. The copy is another prefix path: the store has no registration of it until
 * its first transaction writes one.
 */
export async function copyPrefixTemplate(
  tpl: string,
  work: string,
  layout: LayoutKind,
  name = 'prefix',
): Promise<string> {
  await run('cp', ['-al', `${tpl}/.`, work]);
  const from = prefixPaths(path.join(tpl, name), layout);
  const to = prefixPaths(path.join(work, name), layout);
  await fsp.rm(to.meta, { recursive: true });
  await run('cp', ['-a', from.meta, to.meta]);
  if (layout === 'generations') {
    await fsp.rm(to.trees, { recursive: true });
    await run('cp', ['-al', from.trees, to.trees]);
  }
  return to.dir;
}

/**
 * A copy of the store `tpl` (`cp -a`: modes, read-only objects and mtimes kept, for gc's grace and
 * the index rebuild's add order) at `store` in a new temporary folder; returns its path.
 */
export async function copyStoreTemplate(t: ExecutionContext, tpl: string): Promise<string> {
  const store = path.join(await tempDir(t, 'store-copy'), 'store');
  await run('cp', ['-a', tpl, store]);
  return store;
}
