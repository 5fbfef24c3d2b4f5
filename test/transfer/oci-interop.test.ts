// Interop with the OCI ecosystem and concurrency: skopeo reads every manifest pstore pushed and the
// lockfile's index, copies the whole closure to another repository from which pstore pulls; the
// registry's own garbage collector marks nothing pstore pushed as eligible for deletion; two stores
// pushing the same entries at once, and two pulling at once, all succeed.

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { describe, finished, jsonOut, spawnCli, storeCli } from '../_helpers/cli.js';
import { must, sourceStore } from '../_helpers/oci-fixtures.js';
import { REGISTRY_BIN, requireTool, startRegistry } from '../_helpers/registry.js';
import { assertCleanStore } from '../_helpers/store.js';
import { tempDir } from '../_helpers/tmp.js';

const run = promisify(execFile);

interface PushJson {
  entries: Array<{ id: string; digest: string }>;
  lock: { tag: string };
}

async function skopeo(...args: string[]): Promise<Buffer> {
  requireTool('skopeo');
  const { stdout } = await run('skopeo', ['--insecure-policy', ...args], {
    encoding: 'buffer',
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

test('skopeo reads every manifest and the lock index, copies the closure; pstore pulls the copy; gc keeps all', async (t) => {
  const registry = await startRegistry(t);
  const src = await sourceStore(t, { files: 20 });
  const r = jsonOut<PushJson>(
    await must(t, src.cli, ['push', '--lock', src.lockfile, '--to', registry.remote(), '--json']),
  );
  for (const e of r.entries) {
    const raw = await skopeo(
      'inspect',
      '--raw',
      '--tls-verify=false',
      `docker://${registry.host}/test/cache:entry-${e.id}`,
    );
    t.is(
      `sha256:${createHash('sha256').update(raw).digest('hex')}`,
      e.digest,
      'skopeo reads the bytes pstore pushed',
    );
    t.is(
      (JSON.parse(raw.toString('utf8')) as { artifactType: string }).artifactType,
      'application/vnd.pstore.entry.v1',
    );
  }
  const index = JSON.parse(
    (
      await skopeo(
        'inspect',
        '--raw',
        '--tls-verify=false',
        `docker://${registry.host}/test/cache:${r.lock.tag}`,
      )
    ).toString('utf8'),
  ) as { artifactType: string; manifests: Array<{ digest: string }> };
  t.is(index.artifactType, 'application/vnd.pstore.lock.v1');
  t.deepEqual(index.manifests.map((m) => m.digest).sort(), r.entries.map((e) => e.digest).sort());

  await skopeo(
    'copy',
    '--all',
    '--src-tls-verify=false',
    '--dest-tls-verify=false',
    `docker://${registry.host}/test/cache:${r.lock.tag}`,
    `docker://${registry.host}/test/copy:${r.lock.tag}`,
  );
  const storeC = path.join(await tempDir(t, 'oci-copy'), 'store');
  const pulled = await must(t, storeCli(storeC), [
    'pull',
    '--lock',
    src.lockfile,
    '--from',
    registry.remote('test/copy'),
    '--json',
  ]);
  t.true(jsonOut<{ entries: Array<{ pulled: boolean }> }>(pulled).entries.every((e) => e.pulled));
  await assertCleanStore(t, storeC);

  const gc = await run(REGISTRY_BIN, ['garbage-collect', '--dry-run', registry.config], {
    maxBuffer: 16 * 1024 * 1024,
  });
  const log = gc.stdout + gc.stderr;
  t.regex(log, /marking blob/);
  const summary = /(\d+) blobs marked, (\d+) blobs and (\d+) manifests eligible for deletion/.exec(
    log,
  );
  t.truthy(summary, log);
  t.true(Number(summary![1]) > 0);
  t.deepEqual(
    [summary![2], summary![3]],
    ['0', '0'],
    'the registry gc marks everything pstore pushed',
  );
  t.notRegex(log, /blob eligible for deletion:/);
});

test('two stores pushing the same entries at once, and two pulling at once: all succeed', async (t) => {
  const registry = await startRegistry(t);
  const a = await sourceStore(t, { files: 60 });
  const b = await sourceStore(t, { files: 60 }); // the same content: the same entry ids
  const pushes = await Promise.all(
    [a, b].map((s) =>
      finished(
        spawnCli([
          '--store',
          s.store,
          'push',
          '--lock',
          s.lockfile,
          '--to',
          registry.remote(),
          '--json',
        ]),
      ),
    ),
  );
  for (const p of pushes) t.is(p.code, 0, describe(p));
  t.deepEqual(
    jsonOut<PushJson>(pushes[0]!)
      .entries.map((e) => e.digest)
      .sort(),
    jsonOut<PushJson>(pushes[1]!)
      .entries.map((e) => e.digest)
      .sort(),
    'every pusher writes the same manifest bytes',
  );
  const roots = [await tempDir(t, 'oci-p1'), await tempDir(t, 'oci-p2')];
  const pulls = await Promise.all(
    roots.map((root) =>
      finished(
        spawnCli([
          '--store',
          path.join(root, 'store'),
          'sync',
          a.lockfile,
          '--prefix',
          path.join(root, 'prefix'),
          '--from',
          registry.remote(),
        ]),
      ),
    ),
  );
  for (const p of pulls) t.is(p.code, 0, describe(p));
  const hashA = await must(t, a.cli, ['hash', '--prefix', a.prefix]);
  for (const root of roots) {
    const h = await must(t, storeCli(path.join(root, 'store')), [
      'hash',
      '--prefix',
      path.join(root, 'prefix'),
    ]);
    t.is(h.stdout, hashA.stdout);
  }
  // two pulls into one store at once
  const shared = path.join(await tempDir(t, 'oci-shared'), 'store');
  const both = await Promise.all(
    [0, 1].map(() =>
      finished(
        spawnCli(['--store', shared, 'pull', '--lock', a.lockfile, '--from', registry.remote()]),
      ),
    ),
  );
  for (const p of both) t.is(p.code, 0, describe(p));
  await assertCleanStore(t, shared);
});
