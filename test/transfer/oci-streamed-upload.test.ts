// Blob uploads go over node:http (streamed from the bundle file), not fetch: the same retry and
// error rules must hold on that path. A proxy in front of the real registry answers the blob PUTs
// with 503 + Retry-After once (retried, the push succeeds) or always 500 (exit 8 naming the remote
// and the status).

import test from 'ava';
import { must, sourceStore, targetStore } from '../_helpers/oci-fixtures.js';
import { attemptsByPath, refusingHook, remoteErrorOf } from '../_helpers/refusing-proxy.js';
import { startProxy, startRegistry } from '../_helpers/registry.js';

const isBlobPut = (req: { method?: string; url?: string }) =>
  req.method === 'PUT' && req.url!.includes('/blobs/uploads/');

test('503 with Retry-After on each streamed blob PUT: retried, the push succeeds', async (t) => {
  const registry = await startRegistry(t);
  const refusal = refusingHook({ status: 503, retryAfter: '1', times: 1, match: isBlobPut });
  const proxy = await startProxy(t, registry, refusal.hook);
  const src = await sourceStore(t, { files: 5 });
  await must(t, src.cli, ['push', '--lock', src.lockfile, '--to', proxy.remote(), '-q']);
  const refused = refusal.seen.filter((s) => s.refusedAt !== undefined);
  t.true(refused.length >= 2, 'a config and a layer at least');
  for (const r of refused)
    t.is(refusal.seen.filter((s) => s.path === r.path).length, 2, 'refused once, then sent again');
  const target = await targetStore(t);
  await must(t, target.cli, ['pull', '--lock', src.lockfile, '--from', registry.remote(), '-q']);
});

test('500 on every streamed blob PUT: exit 8 naming the remote and the status', async (t) => {
  const registry = await startRegistry(t);
  const refusal = refusingHook({ status: 500, times: Infinity, match: isBlobPut });
  const proxy = await startProxy(t, registry, refusal.hook);
  const src = await sourceStore(t, { files: 5 });
  const r = await src.cli(['push', '--lock', src.lockfile, '--to', proxy.remote(), '--json']);
  t.regex(remoteErrorOf(t, r, proxy.remote(), 500), /PUT .*blobs\/uploads.*HTTP 500/);
  const attempts = attemptsByPath(refusal.seen);
  t.deepEqual(new Set(attempts.values()), new Set([4]), 'each blob: the first attempt + 3 retries');
});
