// Issue 7, class 6 (store half): every reading command (ls, info, verify) works on a store the
// user can read but not write — a read-only bind mount, another user's store — with the same
// answers as on the writable store; writing commands (add, import, gc) exit 9 with
// EPSTORE_PERMISSION naming a path, and not one file of the store changes.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { describe, jsonOut, storeCli, type CliOptions } from '../_helpers/cli.js';
import {
  assertRefused,
  bindReadOnly,
  rootTest,
  otherUser,
  worldReadable,
} from '../_helpers/environment.js';
import { snapshotDir } from '../_helpers/snapshot.js';
import { assertCleanStore } from '../_helpers/store.js';
import { buildTree, file } from '../_helpers/tree.js';
import { tempDir } from '../_helpers/tmp.js';

interface Answers {
  ls: unknown;
  info: unknown;
  verify: unknown;
  gc: unknown;
}

/** A store with two entries, a bundle and a source tree, and what the reading commands answer on it. */
async function seeded(t: ExecutionContext) {
  const dir = await tempDir(t, 'ro');
  const store = path.join(dir, 'store');
  const cli = storeCli(store);
  const a = await buildTree(path.join(dir, 'a'), {
    'bin/a': file('#!/bin/sh\n', 0o755),
    'share/a.txt': 'a\n',
  });
  const b = await buildTree(path.join(dir, 'b'), { 'share/b.txt': 'b\n' });
  for (const [src, name] of [
    [a, 'alpha'],
    [b, 'beta'],
  ] as const) {
    const r = await cli(['add', src, '--name', name, '--version', '1']);
    t.is(r.code, 0, describe(r));
  }
  const bundle = path.join(dir, 'beta.pstore');
  t.is((await cli(['export', 'beta', '-o', bundle])).code, 0);
  const fresh = await buildTree(path.join(dir, 'fresh'), { 'share/new.txt': 'new\n' });
  await gc(t, cli);
  return { dir, store, bundle, fresh, answers: await answers(t, store) };
}

async function gc(t: ExecutionContext, cli: ReturnType<typeof storeCli>): Promise<void> {
  const r = await cli(['gc']); // leaves nothing in tmp/ or index builds for the snapshots below
  t.is(r.code, 0, describe(r));
}

async function answers(
  t: ExecutionContext,
  store: string,
  opts: CliOptions = {},
): Promise<Answers> {
  const cli = storeCli(store);
  const out: Record<string, unknown> = {};
  for (const [key, args] of [
    ['ls', ['ls']],
    ['info', ['info', 'alpha@1', '--paths']],
    ['verify', ['verify']],
    ['gc', ['gc', '--dry-run']], // a dry run only reads: under the shared lock where it must
  ] as const) {
    const r = await cli([...args, '--json'], opts);
    t.is(r.code, 0, `${key}: ${describe(r)}`);
    out[key] = r.code === 0 ? withoutTimes(jsonOut(r)) : undefined;
  }
  return out as unknown as Answers;
}

/**
 * Answers without add times: an index built in memory from the manifests knows each add time from
 * its manifest's mtime (SPEC §Index), a few milliseconds after the time the add recorded.
 */
function withoutTimes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutTimes);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => k !== 'addedAt' && k !== 'lastAddedAt')
      .map(([k, v]) => [k, withoutTimes(v)]),
  );
}

/** add, import and gc are refused with EPSTORE_PERMISSION naming a path in the store, and change nothing. */
async function writersRefused(
  t: ExecutionContext,
  store: string,
  fx: { fresh: string; bundle: string },
  opts: CliOptions = {},
): Promise<void> {
  const cli = storeCli(store);
  const before = await snapshotDir(store);
  for (const args of [
    ['add', fx.fresh, '--name', 'fresh', '--version', '1'],
    ['import', fx.bundle],
    ['gc'],
    ['gc', '--older-than', '0'],
  ]) {
    assertRefused(t, await cli([...args, '--json'], opts), 'EPSTORE_PERMISSION', store);
  }
  t.deepEqual(await snapshotDir(store), before, 'not one file of the store changed');
}

rootTest(
  'a read-only bind mount of a store: ls, info, verify and gc --dry-run answer as on the store; add, import, export and gc exit 9 EPSTORE_PERMISSION',
  async (t) => {
    const fx = await seeded(t);
    const ro = await bindReadOnly(t, fx.store);
    t.deepEqual(await answers(t, ro), fx.answers);
    // export stages hard links in the store's tmp/: refused as a writer is, never exit 1
    const exported = await storeCli(ro)([
      'export',
      'beta',
      '-o',
      path.join(fx.dir, 'x.pstore'),
      '--json',
    ]);
    assertRefused(t, exported, 'EPSTORE_PERMISSION', ro);
    await writersRefused(t, ro, fx);
    t.deepEqual(await answers(t, ro), fx.answers, 'and still answer after the refusals');
    await assertCleanStore(t, fx.store);
  },
);

rootTest(
  "another user's store: ls, info and verify answer as for its owner; add, import and gc exit 9 EPSTORE_PERMISSION",
  async (t) => {
    const fx = await seeded(t);
    await worldReadable(fx.dir);
    const user = await otherUser();
    t.deepEqual(await answers(t, fx.store, { user }), fx.answers);
    await writersRefused(t, fx.store, fx, { user });
    await assertCleanStore(t, fx.store);
  },
);

rootTest(
  "another user's store whose index was never built (or was deleted): readers still answer from the manifests",
  async (t) => {
    const fx = await seeded(t);
    await fsp.rm(path.join(fx.store, 'index-v1'), { recursive: true });
    await worldReadable(fx.dir);
    const user = await otherUser();
    const seen = await answers(t, fx.store, { user });
    t.deepEqual(seen.info, fx.answers.info);
    t.deepEqual(seen.verify, fx.answers.verify);
    t.deepEqual(
      (seen.ls as Array<{ id: string }>).map((e) => e.id),
      (fx.answers.ls as Array<{ id: string }>).map((e) => e.id),
    );
    t.false(
      await fsp.access(path.join(fx.store, 'index-v1')).then(
        () => true,
        () => false,
      ),
      'nothing was written',
    );
    await assertCleanStore(t, fx.store);
  },
);
