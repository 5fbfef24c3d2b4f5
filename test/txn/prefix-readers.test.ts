// Readers against writers, other users and failing recoveries (issue 7, classes 8, 6 and 10):
// - verify --prefix and hash under a write load: never a false alarm, never a digest of a mix;
// - another user reading a root-owned prefix with an interrupted journal: every reading command
//   works (verify reports the interrupted transaction, exit 4), every writing one is exit 9
//   EPSTORE_PERMISSION naming a path, and the prefix is unchanged;
// - a transaction whose revert also fails (a tmpfs out of inodes): status says interrupted with
//   the reason, not running; after inodes are freed, recover lands on exactly one generation.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { openStore } from '../../lib/index.js';
import { describe, jsonOut, runCli } from '../_helpers/cli.js';
import { mountTmpfs, rootTest, otherUser, worldReadable } from '../_helpers/environment.js';
import { snapshotDir } from '../_helpers/snapshot.js';
import { manyFiles } from '../_helpers/tree.js';
import {
  addPkgs,
  digestOfSet,
  jsonError,
  sharedTemplateStore,
  stagePkg,
} from '../_helpers/txn-trees.js';
import type { StatusJson } from '../_helpers/json.js';

const storeCopy = sharedTemplateStore('readers', 4);

interface HashJson {
  generation: number;
  digest: string;
  transaction: string;
}
interface VerifyJson {
  ok: boolean;
  generation: number;
  missing: string[];
  modified: string[];
  pendingTransaction: boolean;
  transaction: string;
  interruptedReason?: string;
}

test('verify --prefix and hash while writers run: never a false alarm, one digest per generation', async (t) => {
  const { store, dir } = await storeCopy(t, 'readers-soak');
  const prefix = path.join(dir, 'prefix');
  const run = (args: string[]) =>
    runCli(['--store', store, ...args, '--prefix', prefix, '--json'], {
      unlimited: true,
      timeoutMs: 120_000,
    });
  t.is((await run(['activate', 'pkg0'])).code, 0);
  let writing = true;
  const writer = async (name: string) => {
    for (let i = 0; i < 6; i++) {
      const r = await run([i % 2 ? 'deactivate' : 'activate', name]);
      t.is(r.code, 0, describe(r));
    }
  };
  const digests = new Map<number, Set<string>>();
  let reads = 0;
  const reader = async (kind: 'verify' | 'hash') => {
    while (writing) {
      const r = await run([kind]);
      reads++;
      t.is(r.code, 0, `${kind} during writes: ${describe(r)}`);
      if (kind === 'verify')
        t.like(jsonOut<VerifyJson>(r), {
          ok: true,
          missing: [],
          modified: [],
          pendingTransaction: false,
        });
      else {
        const h = jsonOut<HashJson>(r);
        (digests.get(h.generation) ?? digests.set(h.generation, new Set()).get(h.generation)!).add(
          h.digest,
        );
      }
    }
  };
  const readers = [reader('verify'), reader('hash'), reader('verify'), reader('hash')];
  await Promise.all([writer('pkg1'), writer('pkg2'), writer('pkg3')]);
  writing = false;
  await Promise.all(readers);
  t.true(reads >= 8, `readers ran during the writes (${reads})`);
  t.true(digests.size > 0, 'some hash answered during the writes');
  // Each digest seen is the digest of its generation's package set, as a prefix of that set alone
  // hashes (one reference prefix per distinct set): a mix read once would differ from it.
  const gens = await run(['generations']);
  t.is(gens.code, 0, describe(gens));
  const setOf = new Map(
    jsonOut<Array<{ generation: number; packages: Array<{ id: string }> }>>(gens).map((g) => [
      g.generation,
      g.packages.map((p) => p.id).sort(),
    ]),
  );
  const reference = new Map<string, string>();
  for (const [g, seen] of digests) {
    t.is(seen.size, 1, `generation ${g} hashed to one digest, not a mix: ${[...seen].join(' ')}`);
    const ids = setOf.get(g);
    if (!ids) {
      t.fail(`hash named generation ${g}, which no writer committed`);
      continue;
    }
    const key = ids.join(',');
    if (!reference.has(key))
      reference.set(key, await digestOfSet(store, path.join(dir, `ref-${reference.size}`), ids));
    t.deepEqual([...seen], [reference.get(key)], `generation ${g}: the digest of its package set`);
  }
  const v = await run(['verify']);
  t.is(v.code, 0, describe(v));
});

rootTest(
  'another user on a root-owned prefix with an interrupted journal: readers work, writers exit 9, nothing changes',
  async (t) => {
    const { dir, store, cli } = await storeCopy(t, 'readers-other');
    const prefix = path.join(dir, 'prefix');
    t.is((await cli(['activate', 'pkg0', '--prefix', prefix])).code, 0);
    const crashed = await cli(['activate', 'pkg1', '--prefix', prefix], {
      env: { PSTORE_TEST_CRASHPOINT: 'apply:after-files' },
    });
    t.is(crashed.signal, 'SIGKILL', describe(crashed));
    await worldReadable(dir);
    const user = await otherUser();
    const before = await snapshotDir(dir, { exclude: ['store'] });
    const as = (args: string[]) => cli([...args, '--prefix', prefix, '--json'], { user });

    for (const args of [['status'], ['generations'], ['hash'], ['lock']]) {
      const r = await as(args);
      t.is(r.code, 0, `${args[0]} as another user: ${describe(r)}`);
    }
    const s = jsonOut<StatusJson>(await as(['status']));
    t.like(s, { generation: 1, transaction: 'interrupted', transactionInProgress: false });
    t.regex(s.interruptedReason ?? '', /may not be written/, 'status says why it did not recover');
    // in words, the digest still prints, and a note on stderr says the files may be a mix
    const words = await cli(['hash', '--prefix', prefix], { user });
    t.is(words.code, 0, describe(words));
    t.regex(words.stdout, /^sha512-\S+\n$/);
    t.regex(words.stderr, /interrupted transaction of this prefix is not recovered/);
    const v = await as(['verify']);
    t.is(v.code, 4, describe(v));
    t.like(jsonOut<VerifyJson>(v), {
      ok: false,
      pendingTransaction: true,
      transaction: 'interrupted',
    });

    for (const args of [
      ['activate', 'pkg2'],
      ['deactivate', 'pkg0'],
      ['rollback'],
      ['prune', '--keep', '0'],
      ['recover'],
    ]) {
      const r = await as(args);
      t.is(r.code, 9, `${args[0]} as another user: ${describe(r)}`);
      const err = jsonError(r);
      t.is(err.code, 'EPSTORE_PERMISSION');
      t.true(
        typeof err.subject === 'string' && err.subject.startsWith(dir),
        `${args[0]} names a path: ${err.subject}`,
      );
    }
    t.deepEqual(
      await snapshotDir(dir, { exclude: ['store'] }),
      before,
      'the prefix and its state are unchanged',
    );

    // Its owner recovers it (rolled forward: pkg1 was the target).
    const r = await cli(['recover', '--prefix', prefix, '--json']);
    t.is(r.code, 0, describe(r));
    // Checked through the library (verify --prefix has its CLI contract in cli/prefix-contract).
    t.like(await openStore({ path: store }).prefix(prefix).verify(), { ok: true, generation: 2 });
  },
);

rootTest(
  'a revert that fails too (no inodes left): status says interrupted with the reason; recover after freeing lands on one generation',
  async (t) => {
    const { dir, store, cli } = await storeCopy(t, 'readers-inodes');
    // Setup and the checks after the spawned activate, status and recover go through the library.
    const big = await stagePkg(path.join(dir, 'src'), 'big', { extra: manyFiles(400) });
    const v2 = await stagePkg(path.join(dir, 'src'), 'pkg0', { version: '2.0' });
    await addPkgs(store, [big, v2]);
    const mnt = await mountTmpfs(t, { size: '64m', inodes: 600 });
    const prefix = path.join(mnt, 'prefix');
    const p = openStore({ path: store }).prefix(prefix);
    await p.activate(['pkg0@1.0']);
    const oldHash = (await p.hash()).digest;
    // Leave 60 inodes: the upgrade and the 400 new files cannot fit, and once they are used up the
    // revert cannot make the temp files it needs to put pkg0 1.0 back.
    const fillers = path.join(mnt, 'fillers');
    await fsp.mkdir(fillers);
    for (let i = 0; (await fsp.statfs(mnt)).ffree > 60; i++)
      await fsp.writeFile(path.join(fillers, String(i)), '');
    const failed = await cli(['activate', 'pkg0@2.0', 'big', '--prefix', prefix, '--json']);
    t.is(failed.code, 9, describe(failed));
    t.is(jsonError(failed).code, 'EPSTORE_NO_SPACE');

    const st = await cli(['status', '--prefix', prefix, '--json']);
    t.is(st.code, 0, describe(st));
    const s = jsonOut<StatusJson>(st);
    t.like(
      s,
      { transaction: 'interrupted', transactionInProgress: false },
      'not "running": nothing runs',
    );
    t.regex(s.interruptedReason ?? '', /EPSTORE_NO_SPACE/, `the reason: ${s.interruptedReason}`);

    await fsp.rm(fillers, { recursive: true });
    const r = await cli(['recover', '--prefix', prefix, '--json']);
    t.is(r.code, 0, describe(r));
    t.is((await p.status()).transaction, 'none');
    const h = await p.hash();
    if (h.generation === 1) t.is(h.digest, oldHash, 'rolled back: exactly generation 1');
    else t.is(h.generation, 2, 'rolled forward: exactly generation 2');
    t.like(await p.verify(), { ok: true });
  },
);
