// Temporary directories and stores, removed when the test ends (t.teardown).

import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ExecutionContext } from 'ava';

/** Set PSTORE_TEST_KEEP=1 to keep temp dirs for post-mortem inspection. */
const KEEP = process.env.PSTORE_TEST_KEEP === '1';

/** A fresh empty directory that the caller removes (for test.before fixtures; use removeTree in test.after.always). */
export function makeTemp(tag = 'tmp'): Promise<string> {
  return fsp.mkdtemp(path.join(os.tmpdir(), `pstore-test-${tag}-`));
}

/** A fresh empty directory, removed with everything in it when the test ends. */
export async function tempDir(t: ExecutionContext, tag = 'tmp'): Promise<string> {
  const dir = await makeTemp(tag);
  t.teardown(async () => {
    if (KEEP) {
      t.log(`kept ${dir}`);
      return;
    }
    await removeTree(dir);
  });
  return dir;
}

/** A path for a store that does not exist yet (pstore creates it on first use). */
export async function tempStore(t: ExecutionContext): Promise<string> {
  return path.join(await tempDir(t, 'store'), 'store');
}

/** rm -rf that also copes with read-only directories (objects are 0444, but dirs could be made 0555). */
export async function removeTree(dir: string): Promise<void> {
  if (KEEP) return;
  try {
    await fsp.rm(dir, { recursive: true, force: true });
  } catch {
    await makeWritable(dir);
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

async function makeWritable(dir: string): Promise<void> {
  const st = await fsp.lstat(dir).catch(() => undefined);
  if (!st?.isDirectory()) return;
  await fsp.chmod(dir, 0o755).catch(() => {});
  for (const name of await fsp.readdir(dir).catch(() => [] as string[]))
    await makeWritable(path.join(dir, name));
}
