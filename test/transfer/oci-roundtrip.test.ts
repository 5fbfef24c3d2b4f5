// OCI remotes against the real registry (docker-registry 2.8.2 on 127.0.0.1): a lockfile's entries
// pushed from one store are synced into a fresh store and prefix with the same tree digest; a
// second push sends no blob, a sync of a complete store sends no request at all.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { describe, jsonOut, storeCli } from '../_helpers/cli.js';
import { must, sourceStore, uploadRequests } from '../_helpers/oci-fixtures.js';
import { startProxy, startRegistry } from '../_helpers/registry.js';
import { assertCleanStore } from '../_helpers/store.js';
import { tempDir } from '../_helpers/tmp.js';

interface PushJson {
  entries: Array<{ id: string; uploaded: boolean; digest: string }>;
  blobsUploaded: number;
  lock: { tag: string; uploaded: boolean };
}

test('push --lock, then sync --from into a fresh store: same hash, same lockfile; repeats send nothing', async (t) => {
  const registry = await startRegistry(t);
  const proxy = await startProxy(t, registry);
  const src = await sourceStore(t);
  const first = jsonOut<PushJson>(
    await must(t, src.cli, ['push', '--lock', src.lockfile, '--to', proxy.remote(), '--json']),
  );
  t.is(first.entries.length, 3);
  t.true(first.entries.every((e) => e.uploaded && /^sha256:[0-9a-f]{64}$/.test(e.digest)));
  t.is(first.blobsUploaded, 6, 'a config and a layer per entry');
  t.true(first.lock.uploaded);
  t.true(uploadRequests(proxy.log) >= 6);

  proxy.log.requests.length = 0;
  const second = jsonOut<PushJson>(
    await must(t, src.cli, ['push', '--lock', src.lockfile, '--to', proxy.remote(), '--json']),
  );
  t.true(second.entries.every((e) => !e.uploaded));
  t.is(second.blobsUploaded, 0);
  t.false(second.lock.uploaded);
  t.is(uploadRequests(proxy.log), 0, 'a second push uploads no blob');
  t.true(
    proxy.log.requests.every((q) => q.method === 'HEAD'),
    JSON.stringify(proxy.log.requests),
  );

  const dst = await tempDir(t, 'oci-dst');
  const cliB = storeCli(path.join(dst, 'store'));
  const prefixB = path.join(dst, 'prefix');
  await must(t, cliB, ['sync', src.lockfile, '--prefix', prefixB, '--from', registry.remote()]);
  const hashA = await must(t, src.cli, ['hash', '--prefix', src.prefix]);
  const hashB = await must(t, cliB, ['hash', '--prefix', prefixB]);
  t.is(hashB.stdout, hashA.stdout, 'the synced prefix has the same tree digest');
  const lockB = await must(t, cliB, ['lock', '--prefix', prefixB]);
  t.is(lockB.stdout, await fsp.readFile(src.lockfile, 'utf8'), 'lock in B equals A');
  await assertCleanStore(t, path.join(dst, 'store'));

  proxy.log.requests.length = 0;
  const again = await must(t, cliB, [
    'sync',
    src.lockfile,
    '--prefix',
    prefixB,
    '--from',
    proxy.remote(),
    '--json',
  ]);
  t.true(jsonOut<{ noop: boolean }>(again).noop);
  t.deepEqual(proxy.log.requests, [], 'sync --from of a complete store makes no request');
});

test('pull REF: by NAME@VERSION and by id; --dry-run imports nothing; pulling again is a no-op', async (t) => {
  const registry = await startRegistry(t);
  const src = await sourceStore(t);
  await must(t, src.cli, ['push', 'tool', 'libfoo@2.1', '--to', registry.remote(), '-q']);
  const id = jsonOut<Array<{ id: string; name: string }>>(
    await must(t, src.cli, ['ls', '--json']),
  ).find((e) => e.name === 'libfoo')!.id;
  const dst = await tempDir(t, 'oci-pull');
  const cliB = storeCli(path.join(dst, 'store'));
  const dry = await must(t, cliB, [
    'pull',
    'tool@1.0',
    id,
    '--from',
    registry.remote(),
    '--dry-run',
    '--json',
  ]);
  t.deepEqual(
    jsonOut<{ entries: Array<{ pulled: boolean }> }>(dry).entries.map((e) => e.pulled),
    [true, true],
  );
  t.is((await cliB(['ls', '--json'])).stdout.trim() || '[]', '[]', 'a dry run imports nothing');
  const r = await must(t, cliB, ['pull', 'tool@1.0', id, '--from', registry.remote()]);
  t.regex(r.stdout, /pulled {2}tool@1\.0/);
  t.regex(r.stdout, /pulled {2}libfoo@2\.1/);
  const again = await must(t, cliB, ['pull', id, '--from', registry.remote(), '--json']);
  t.false(jsonOut<{ entries: Array<{ pulled: boolean }> }>(again).entries[0]!.pulled);
  await assertCleanStore(t, path.join(dst, 'store'));
  const quiet = await cliB(['pull', 'tool@1.0', '--from', registry.remote(), '-q']);
  t.is(quiet.code, 0, describe(quiet));
  t.is(quiet.stdout, '');
});
