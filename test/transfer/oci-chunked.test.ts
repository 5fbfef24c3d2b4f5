// The chunked-upload fallback against the real registry: a proxy refuses every monolithic upload
// (413, as registries with a body limit do), so the client sends 4 MiB PATCH chunks and a final
// PUT; the entry pulled back into a fresh store gives the same tree digest.

import { randomBytes } from 'node:crypto';
import path from 'node:path';
import test from 'ava';
import { jsonOut, storeCli } from '../_helpers/cli.js';
import { must } from '../_helpers/oci-fixtures.js';
import { refusingHook } from '../_helpers/refusing-proxy.js';
import { startProxy, startRegistry } from '../_helpers/registry.js';
import { tempDir } from '../_helpers/tmp.js';
import { buildTree, file } from '../_helpers/tree.js';

const MIB = 1024 * 1024;

test('a registry refusing monolithic uploads (413): PATCH chunks + PUT, pulled back byte-identical', async (t) => {
  const registry = await startRegistry(t);
  const refusal = refusingHook({
    status: 413,
    times: Infinity,
    match: (req) =>
      req.method === 'PUT' &&
      req.url!.includes('/blobs/uploads/') &&
      Number(req.headers['content-length'] ?? 0) > 0,
  });
  const proxy = await startProxy(t, registry, refusal.hook);
  const root = await tempDir(t, 'oci-chunked');
  const cliA = storeCli(path.join(root, 'store-a'));
  const dir = await buildTree(path.join(root, 'src'), {
    'share/big.bin': file(randomBytes(9 * MIB + 123)),
    'bin/small': file('#!/bin/sh\n', 0o755),
  });
  await must(t, cliA, ['add', dir, '--name', 'big', '--version', '1']);
  const prefixA = path.join(root, 'prefix-a');
  await must(t, cliA, ['activate', 'big', '--prefix', prefixA]);
  const lockfile = path.join(root, 'pstore.lock');
  await must(t, cliA, ['lock', '--prefix', prefixA, '-o', lockfile]);

  const pushed = jsonOut<{ blobsUploaded: number; bytesUploaded: number }>(
    await must(t, cliA, ['push', '--lock', lockfile, '--to', proxy.remote(), '--json']),
  );
  t.is(pushed.blobsUploaded, 2);
  t.true(pushed.bytesUploaded > 9 * MIB);
  const uploads = proxy.log.requests.filter((q) => q.path.includes('/blobs/uploads/'));
  const kinds = uploads.map((q) => q.method).filter((m) => m !== 'POST' && m !== 'DELETE');
  t.is(refusal.seen.length, 2, 'one monolithic attempt per blob, refused');
  // config: PUT (refused), 1 PATCH, PUT; layer: PUT (refused), 3 PATCHes of ≤ 4 MiB, PUT
  t.is(kinds.filter((m) => m === 'PATCH').length, 1 + 3, JSON.stringify(uploads));
  t.is(kinds.filter((m) => m === 'PUT').length, 2 * 2);
  t.is(kinds[0], 'PUT', 'the monolithic upload is tried first');

  const dst = await tempDir(t, 'oci-chunked-b');
  const cliB = storeCli(path.join(dst, 'store'));
  const prefixB = path.join(dst, 'prefix');
  await must(t, cliB, ['sync', lockfile, '--prefix', prefixB, '--from', registry.remote()]);
  const hashA = await must(t, cliA, ['hash', '--prefix', prefixA]);
  t.is((await must(t, cliB, ['hash', '--prefix', prefixB])).stdout, hashA.stdout);
});
