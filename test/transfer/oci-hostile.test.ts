// A registry (or a man in the middle) that serves other bytes: a blob altered in the registry's own
// storage, a manifest whose config is another entry's, a layer longer than its manifest says, a
// download cut short. Each is exit 4 (EPSTORE_INTEGRITY), nothing is imported, the store verifies
// clean; a remote that lacks entries is exit 6 naming every missing one.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { describe, jsonOut } from '../_helpers/cli.js';
import { must, sourceStore, targetStore, type SourceStore } from '../_helpers/oci-fixtures.js';
import { forward, startProxy, startRegistry, type Registry } from '../_helpers/registry.js';
import { flipByte } from '../_helpers/store.js';

interface Pushed {
  entries: Array<{ id: string; name: string; digest: string }>;
}

async function pushed(
  t: ExecutionContext,
  registry: Registry,
): Promise<{ src: SourceStore; push: Pushed }> {
  const src = await sourceStore(t, { files: 30 });
  const r = await must(t, src.cli, [
    'push',
    '--lock',
    src.lockfile,
    '--to',
    registry.remote(),
    '--json',
  ]);
  return { src, push: jsonOut<Pushed>(r) };
}

function layerDigest(manifest: Buffer): { config: string; layer: string; size: number } {
  const m = JSON.parse(manifest.toString('utf8')) as {
    config: { digest: string };
    layers: Array<{ digest: string; size: number }>;
  };
  return { config: m.config.digest, layer: m.layers[0]!.digest, size: m.layers[0]!.size };
}

async function getManifest(registry: Registry, ref: string): Promise<Buffer> {
  const res = await fetch(`http://${registry.host}/v2/test/cache/manifests/${ref}`, {
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
  });
  return Buffer.from(await res.arrayBuffer());
}

function blobFile(registry: Registry, digest: string): string {
  const hex = digest.slice('sha256:'.length);
  return path.join(registry.data, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
}

function expectIntegrity(
  t: ExecutionContext,
  r: Awaited<ReturnType<SourceStore['cli']>>,
  pattern: RegExp,
): void {
  t.is(r.code, 4, describe(r));
  t.regex(r.stderr, /EPSTORE_INTEGRITY/);
  t.regex(r.stderr, pattern);
}

test('a layer altered inside the registry storage: exit 4, nothing imported', async (t) => {
  const registry = await startRegistry(t);
  const { src } = await pushed(t, registry);
  const { layer } = layerDigest(await getManifest(registry, 'tool-1.0'));
  await fsp.chmod(blobFile(registry, layer), 0o644);
  await flipByte(blobFile(registry, layer), 2000);
  const target = await targetStore(t);
  const r = await target.cli(['pull', '--lock', src.lockfile, '--from', registry.remote()]);
  expectIntegrity(t, r, /hash to sha256:/);
  await target.assertUnchanged();
});

test('a manifest whose config is another entry: exit 4 (the config does not hash to the id)', async (t) => {
  const registry = await startRegistry(t);
  const { push } = await pushed(t, registry);
  const tool = push.entries.find((e) => e.name === 'tool')!;
  const real = JSON.parse((await getManifest(registry, `entry-${tool.id}`)).toString('utf8')) as {
    config: unknown;
  };
  real.config = (
    JSON.parse((await getManifest(registry, 'libfoo-2.1')).toString('utf8')) as { config: unknown }
  ).config;
  const res = await fetch(`http://${registry.host}/v2/test/cache/manifests/entry-${tool.id}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    body: JSON.stringify(real),
  });
  t.is(res.status, 201);
  const target = await targetStore(t);
  const r = await target.cli(['pull', tool.id, '--from', registry.remote()]);
  expectIntegrity(t, r, /not to its id/);
  await target.assertUnchanged();
});

test('a layer longer than its manifest says, and a download cut short: exit 4, nothing imported', async (t) => {
  const registry = await startRegistry(t);
  const { src } = await pushed(t, registry);
  const { layer, size } = layerDigest(await getManifest(registry, 'tool-1.0'));
  const longer = await startProxy(t, registry, (req, res) => {
    if (!req.url!.endsWith(layer)) return false;
    forward(req, res, registry.port, (_status, body) => Buffer.concat([body, Buffer.alloc(512)]));
    return true;
  });
  const target = await targetStore(t);
  const r1 = await target.cli(['pull', '--lock', src.lockfile, '--from', longer.remote()]);
  expectIntegrity(t, r1, /larger than the \d+ bytes its manifest says/);
  const cut = await startProxy(t, registry, (req, res) => {
    if (!req.url!.endsWith(layer) || req.method !== 'GET') return false;
    res.writeHead(200, {
      'content-length': String(size),
      'content-type': 'application/octet-stream',
    });
    res.write(Buffer.alloc(Math.floor(size / 2)));
    setTimeout(() => res.destroy(), 50);
    return true;
  });
  const r2 = await target.cli(['pull', '--lock', src.lockfile, '--from', cut.remote()]);
  expectIntegrity(t, r2, /of \d+ bytes received|broke off/);
  await target.assertUnchanged();
});

test('entries the remote lacks: exit 6 listing every one, nothing imported', async (t) => {
  const registry = await startRegistry(t);
  const src = await sourceStore(t, { files: 5 });
  await must(t, src.cli, ['push', 'tool', '--to', registry.remote(), '-q']);
  const target = await targetStore(t);
  const r = await target.cli([
    'pull',
    '--lock',
    src.lockfile,
    '--from',
    registry.remote(),
    '--json',
  ]);
  t.is(r.code, 6, describe(r));
  const err = JSON.parse(r.stderr) as { error: { code: string; data: { missing: string[] } } };
  t.is(err.error.code, 'EPSTORE_NOT_FOUND');
  t.deepEqual(err.error.data.missing.map((m) => m.replace(/@[^@]*$/, '')).sort(), [
    '@scope/bar',
    'libfoo',
  ]);
  await target.assertUnchanged();
  const local = await src.cli([
    'push',
    'nope',
    'tool',
    'nada@1',
    '--to',
    registry.remote(),
    '--json',
  ]);
  t.is(local.code, 6, describe(local));
  t.deepEqual(
    (JSON.parse(local.stderr) as { error: { data: { missing: string[] } } }).error.data.missing,
    ['nope', 'nada@1'],
  );
});
