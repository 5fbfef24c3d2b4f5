// Retries against the real registry behind a proxy that refuses the first requests to a path: 429
// with Retry-After (the wait is honoured), 503 without (exponential backoff), both recovered; a
// registry that keeps answering 429 past the retry budget is exit 8 naming the remote and status,
// with nothing imported.

import path from 'node:path';
import test from 'ava';
import { jsonOut, storeCli } from '../_helpers/cli.js';
import { must, sourceStore, targetStore } from '../_helpers/oci-fixtures.js';
import {
  attemptsByPath,
  refusingHook,
  remoteErrorOf,
  retryGaps,
} from '../_helpers/refusing-proxy.js';
import { startProxy, startRegistry } from '../_helpers/registry.js';
import { tempDir } from '../_helpers/tmp.js';

const isManifestPut = (req: { method?: string; url?: string }) =>
  req.method === 'PUT' && req.url!.includes('/manifests/');
const isBlobGet = (req: { method?: string; url?: string }) =>
  req.method === 'GET' && req.url!.includes('/blobs/sha256:');

test('429 with Retry-After: 1 on every manifest PUT and blob GET: push and pull succeed, each retry waits ≥ 1 s', async (t) => {
  const registry = await startRegistry(t);
  const refusal = refusingHook({
    status: 429,
    retryAfter: '1',
    times: 1,
    match: (req) => isManifestPut(req) || isBlobGet(req),
  });
  const proxy = await startProxy(t, registry, refusal.hook);
  const src = await sourceStore(t, { files: 5 });
  const pushed = jsonOut<{ entries: Array<{ uploaded: boolean }> }>(
    await must(t, src.cli, ['push', '--lock', src.lockfile, '--to', proxy.remote(), '--json']),
  );
  t.true(pushed.entries.every((e) => e.uploaded));
  const dst = await tempDir(t, 'oci-retry');
  const cliB = storeCli(path.join(dst, 'store'));
  const prefixB = path.join(dst, 'prefix');
  await must(t, cliB, ['sync', src.lockfile, '--prefix', prefixB, '--from', proxy.remote()]);
  const hashA = await must(t, src.cli, ['hash', '--prefix', src.prefix]);
  t.is((await must(t, cliB, ['hash', '--prefix', prefixB])).stdout, hashA.stdout);

  const gaps = retryGaps(refusal.seen);
  // 3 entry manifests twice (entry-<id>, NAME-VERSION), the lock index, 2 blobs of 3 entries
  t.is(gaps.length, 3 * 2 + 1 + 3 * 2, JSON.stringify(refusal.seen));
  for (const own of gaps) {
    t.is(own.length, 1, 'one refusal per path, then the registry answered');
    t.true(own[0]! >= 950, `a retry came ${own[0]!.toFixed(0)} ms after Retry-After: 1`);
  }
});

test('503 without Retry-After twice per blob GET: pull retries with growing backoff and succeeds', async (t) => {
  const registry = await startRegistry(t);
  const src = await sourceStore(t, { files: 5 });
  await must(t, src.cli, ['push', '--lock', src.lockfile, '--to', registry.remote(), '-q']);
  const refusal = refusingHook({ status: 503, times: 2, match: isBlobGet });
  const proxy = await startProxy(t, registry, refusal.hook);
  const cliB = storeCli(path.join(await tempDir(t, 'oci-retry'), 'store'));
  const r = jsonOut<{ entries: Array<{ pulled: boolean }> }>(
    await must(t, cliB, ['pull', '--lock', src.lockfile, '--from', proxy.remote(), '--json']),
  );
  t.deepEqual(
    r.entries.map((e) => e.pulled),
    [true, true, true],
  );
  const gaps = retryGaps(refusal.seen);
  t.is(gaps.length, 6, 'a config and a layer per entry');
  for (const own of gaps) {
    t.is(own.length, 2);
    // backoff: 250 ms, then 500 ms, each with ±25 % jitter
    t.true(own[0]! >= 180 && own[1]! >= 370, `waits ${own.map((g) => g.toFixed(0)).join(', ')}`);
  }
});

test('429 past the retry budget: exit 8 naming the remote and the status, nothing imported', async (t) => {
  const registry = await startRegistry(t);
  const src = await sourceStore(t, { files: 5 });
  await must(t, src.cli, ['push', '--lock', src.lockfile, '--to', registry.remote(), '-q']);
  const refusal = refusingHook({ status: 429, retryAfter: '1', times: Infinity, match: isBlobGet });
  const proxy = await startProxy(t, registry, refusal.hook);
  const target = await targetStore(t);
  const r = await target.cli(['pull', '--lock', src.lockfile, '--from', proxy.remote(), '--json']);
  t.regex(remoteErrorOf(t, r, proxy.remote(), 429), /HTTP 429/);
  const attempts = attemptsByPath(refusal.seen);
  t.is(Math.max(...attempts.values()), 4, 'the first attempt and 3 retries, then the error');
  await target.assertUnchanged();
});
