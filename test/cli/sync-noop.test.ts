// `pstore sync LOCKFILE` on a prefix that holds the lockfile already is answered without the
// prefix's lock (lib/api/sync-noop.ts, dist/cli/sync.cjs; SPEC.md §Sync without the lock), with the
// result the transaction gives; anything else still runs the transaction. Real processes: a
// writer paused while it holds the lock, before its journal.

import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { describe, jsonOut, runCli, spawnStoreCli } from '../_helpers/cli.js';
import { rootTest, otherUser, worldReadable } from '../_helpers/environment.js';
import type { TxnJson } from '../_helpers/json.js';
import {
  exists,
  jsonError,
  sharedTemplateStore,
  until,
  withPkg0Active,
  writerLockHeld,
} from '../_helpers/txn-trees.js';

const storeCopy = sharedTemplateStore('sync-noop', 2);

/** A prefix with pkg0 active and its lockfile beside it. */
async function locked(t: Parameters<typeof storeCopy>[0]) {
  const f = await withPkg0Active(t, await storeCopy(t));
  const lock = path.join(f.dir, 'pstore.lock');
  const r = await f.cli(['lock', '--prefix', f.prefix, '-o', lock]);
  t.is(r.code, 0, describe(r));
  return { ...f, lock };
}

test('a prefix that holds the lockfile is told so while another writer holds its lock', async (t) => {
  const f = await locked(t);
  const release = `${f.prefix}.release`;
  const holder = spawnStoreCli(f.store, ['activate', 'pkg1', '--prefix', f.prefix, '-q'], {
    PSTORE_TEST_PAUSEPOINT: 'prefix:locked:60000',
    PSTORE_TEST_PAUSE_RELEASE: release,
  });
  try {
    await until('the holder to take the lock', () => writerLockHeld(f.prefix));
    // --wait 0: the transaction would give up at once (exit 5) on the lock the holder has.
    const r = await f.cli(['sync', f.lock, '--prefix', f.prefix, '--wait', '0', '--json']);
    t.is(r.code, 0, describe(r));
    t.like(jsonOut<TxnJson>(r), { noop: true, generation: 1, activated: [], deactivated: [] });
    // With --verbose (its steps) the transaction runs, and waits for the lock like any.
    const v = await f.cli(['sync', f.lock, '--prefix', f.prefix, '--wait', '0', '--verbose']);
    t.is(v.code, 5, describe(v));
  } finally {
    await fsp.writeFile(release, '');
  }
  const done = await holder.done;
  t.is(done.code, 0, describe(done));
});

test("the answer is the transaction's own, field for field, in JSON and in words", async (t) => {
  const f = await locked(t);
  const args = ['sync', f.lock, '--prefix', f.prefix];
  for (const mode of [['--json'], []]) {
    const quick = await f.cli([...args, ...mode]);
    const txn = await f.cli([...args, ...mode, '--verbose']); // the locked path
    t.is(quick.code, 0, describe(quick));
    t.is(txn.code, 0, describe(txn));
    t.is(quick.stdout, txn.stdout);
  }
});

test('a journal, another set, or a prefix its store has no registration of: the transaction runs', async (t) => {
  const f = await locked(t);
  const args = ['sync', f.lock, '--prefix', f.prefix, '--json'];
  // No registration: the transaction (a no-op) registers the prefix again, as every one does.
  const registrations = path.join(f.store, 'prefixes-v1');
  const [reg] = await fsp.readdir(registrations);
  // Its name (SPEC.md §Registrations): 32 hex digits of sha256 of the state directory's path.
  const { meta } = JSON.parse(await fsp.readFile(path.join(registrations, reg!), 'utf8')) as {
    meta: string;
  };
  t.is(reg, `${createHash('sha256').update(meta).digest('hex').slice(0, 32)}.json`);
  await fsp.rm(path.join(registrations, reg!));
  const again = await f.cli(args);
  t.like(jsonOut<TxnJson>(again), { noop: true, generation: 1 });
  t.true(await exists(path.join(registrations, reg!)), 'registered again');
  // A journal a killed writer left: the committed set is still the lockfile's, but the transaction
  // recovers first (rolls the activation of pkg1 forward, generation 2), then takes pkg1 out.
  const killed = await f.cli(['activate', 'pkg1', '--prefix', f.prefix], {
    env: { PSTORE_TEST_CRASHPOINT: 'txn:after-journal' },
  });
  t.not(killed.code, 0);
  const journal = path.join(f.prefix, '.pstore', 'journal.json');
  t.true(await exists(journal));
  const recovered = await f.cli(args);
  t.like(jsonOut<TxnJson>(recovered), { noop: false, generation: 3, previousGeneration: 2 });
  t.false(await exists(journal), 'recovered by the transaction');
  // Another set: pkg1 added to the prefix (generation 4); the sync takes it out again.
  t.is((await f.cli(['activate', 'pkg1', '--prefix', f.prefix])).code, 0);
  const back = await f.cli(args);
  t.like(jsonOut<TxnJson>(back), { noop: false, generation: 5 });
  t.deepEqual(
    jsonOut<TxnJson>(back).deactivated.map((p) => p.name),
    ['pkg1'],
  );
  // Another layout asked for: the transaction refuses it, as before.
  const layout = await f.cli([...args, '--layout', 'generations']);
  t.not(layout.code, 0, describe(layout));
});

test('another store named (or none, with $PSTORE_STORE elsewhere): refused as the transaction refuses it, exit 3', async (t) => {
  const f = await locked(t);
  const other = path.join(f.dir, 'other-store');
  const args = ['sync', f.lock, '--prefix', f.prefix];
  const named = await runCli([...args, '--store', other]);
  t.is(named.code, 3, describe(named));
  t.like(jsonError(await runCli([...args, '--store', other, '--json'])), {
    code: 'EPSTORE_CONFLICT',
  });
  const fromEnv = await runCli(args, { env: { PSTORE_STORE: other } });
  t.is(fromEnv.code, 3, describe(fromEnv));
  // Its own store, from the environment: answered.
  const own = await runCli([...args, '--json'], { env: { PSTORE_STORE: f.store } });
  t.like(jsonOut<TxnJson>(own), { noop: true, generation: 1 });
});

rootTest(
  "a user who may not write the prefix's state gets the transaction's answer, exit 9",
  async (t) => {
    const f = await locked(t);
    await worldReadable(f.dir);
    const user = await otherUser();
    const args = ['sync', f.lock, '--prefix', f.prefix, '--store', f.store];
    const quick = await runCli(args, { user });
    const txn = await runCli([...args, '--verbose'], { user }); // the locked path
    t.is(txn.code, 9, describe(txn));
    t.is(quick.code, txn.code, describe(quick));
  },
);
