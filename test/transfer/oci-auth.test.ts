// Credentials and refusals against the real registry: htpasswd (Basic) with credentials from the
// environment or Docker's config.json, a Bearer token flow through a local proxy (anonymous tokens
// for pulls), and every refusal — wrong password, no credentials, registry down — is exit 8
// (EPSTORE_REMOTE) naming the remote and the status, never printing a secret, changing nothing.

import { promises as fsp } from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import test from 'ava';
import { describe, storeCli, type CliResult } from '../_helpers/cli.js';
import { must, sourceStore } from '../_helpers/oci-fixtures.js';
import { startProxy, startRegistry, TEST_PASSWORD, TEST_USER } from '../_helpers/registry.js';
import { snapshotDir } from '../_helpers/snapshot.js';
import { tempDir } from '../_helpers/tmp.js';
import { exists } from '../_helpers/txn-trees.js';

const CREDS = { PSTORE_REGISTRY_USERNAME: TEST_USER, PSTORE_REGISTRY_PASSWORD: TEST_PASSWORD };
const BASIC_SECRET = Buffer.from(`${TEST_USER}:${TEST_PASSWORD}`).toString('base64');

/** An environment with no credentials anywhere (HOME and DOCKER_CONFIG point at empty dirs). */
async function bareEnv(t: Parameters<typeof tempDir>[0]): Promise<Record<string, string>> {
  const home = await tempDir(t, 'home');
  return { HOME: home, DOCKER_CONFIG: path.join(home, 'docker') };
}

function assertRemoteError(t: Parameters<typeof tempDir>[0], r: CliResult, status?: number): void {
  t.is(r.code, 8, describe(r));
  const err = JSON.parse(r.stderr.trim().split('\n').pop()!) as {
    error: { code: string; subject: string; data: { status?: number } };
  };
  t.is(err.error.code, 'EPSTORE_REMOTE');
  t.regex(err.error.subject, /^oci:\/\/127\.0\.0\.1:\d+\//);
  if (status !== undefined) t.is(err.error.data.status, status);
  t.false(
    r.stderr.includes(TEST_PASSWORD) || r.stdout.includes(TEST_PASSWORD),
    'no password printed',
  );
  t.false(r.stderr.includes(BASIC_SECRET), 'no encoded credentials printed');
}

test('htpasswd: push with PSTORE_REGISTRY_*, pull with docker config.json; --verbose shows no secret', async (t) => {
  const registry = await startRegistry(t, { auth: true });
  const src = await sourceStore(t, { files: 5 });
  const env = { ...(await bareEnv(t)), ...CREDS };
  const pushed = await must(t, src.cli, ['push', 'tool', '--to', registry.remote(), '--verbose'], {
    env,
  });
  t.regex(pushed.stderr, /PUT http:\/\/127\.0\.0\.1:\d+\/v2\/test\/cache\/manifests\/entry-/);
  t.false(pushed.stderr.includes(BASIC_SECRET) || pushed.stderr.includes(TEST_PASSWORD));

  const docker = await tempDir(t, 'docker');
  await fsp.writeFile(
    path.join(docker, 'config.json'),
    JSON.stringify({ auths: { [registry.host]: { auth: BASIC_SECRET } } }),
  );
  const cliB = storeCli(path.join(await tempDir(t, 'oci-b'), 'store'));
  const pulled = await must(
    t,
    cliB,
    ['pull', 'tool@1.0', '--from', registry.remote(), '--verbose'],
    {
      env: { ...(await bareEnv(t)), DOCKER_CONFIG: docker },
    },
  );
  t.regex(pulled.stdout, /pulled {2}tool@1\.0/);
  t.false(pulled.stderr.includes(BASIC_SECRET));
});

test('htpasswd: a wrong password and no credentials are exit 8 with status 401, nothing changed', async (t) => {
  const registry = await startRegistry(t, { auth: true });
  const src = await sourceStore(t, { files: 5 });
  const before = await snapshotDir(src.store, { exclude: ['locks', 'index-v1'] });
  const wrong = await src.cli(['push', 'tool', '--to', registry.remote(), '--json'], {
    env: {
      ...(await bareEnv(t)),
      PSTORE_REGISTRY_USERNAME: TEST_USER,
      PSTORE_REGISTRY_PASSWORD: 'nope',
    },
  });
  assertRemoteError(t, wrong, 401);
  t.regex(wrong.stderr, /refused the credentials/);
  const none = await src.cli(['push', 'tool', '--to', registry.remote(), '--json'], {
    env: await bareEnv(t),
  });
  assertRemoteError(t, none, 401);
  t.regex(none.stderr, /needs credentials/);
  t.deepEqual(await snapshotDir(src.store, { exclude: ['locks', 'index-v1'] }), before);
  const storeB = path.join(await tempDir(t, 'oci-b'), 'store');
  const pull = await storeCli(storeB)(
    ['pull', '--lock', src.lockfile, '--from', registry.remote(), '--json'],
    {
      env: await bareEnv(t),
    },
  );
  assertRemoteError(t, pull, 401);
  t.false(await exists(storeB), 'no store was created');
});

test('registry down: exit 8 naming the remote, after retries; nothing changed', async (t) => {
  const registry = await startRegistry(t);
  const remote = registry.remote();
  await registry.stop();
  const storeB = path.join(await tempDir(t, 'oci-b'), 'store');
  const r = await storeCli(storeB)(['pull', 'tool@1.0', '--from', remote, '--json']);
  assertRemoteError(t, r);
  t.regex(r.stderr, /cannot reach the registry: ECONNREFUSED/);
  t.false(await exists(storeB), 'no store was created');
});

test('Bearer: a token from the realm for pushes, an anonymous token for pulls, anonymous push refused', async (t) => {
  const registry = await startRegistry(t);
  let realm = '';
  const tokens = { rw: 'tok-rw-5f2a', ro: 'tok-anon-91c' };
  const proxy = await startProxy(t, registry, (req, res) => {
    if (req.url!.startsWith('/token')) {
      const auth = req.headers.authorization;
      const scope = new URL(req.url!, 'http://x').searchParams.get('scope') ?? '';
      if (auth === `Basic ${BASIC_SECRET}`) return json(res, 200, { token: tokens.rw });
      if (auth === undefined && !scope.includes('push'))
        return json(res, 200, { access_token: tokens.ro });
      return json(res, 401, { errors: [{ code: 'UNAUTHORIZED' }] });
    }
    const auth = req.headers.authorization;
    const reading = req.method === 'GET' || req.method === 'HEAD';
    if (auth === `Bearer ${tokens.rw}` || (reading && auth === `Bearer ${tokens.ro}`)) return false;
    res.writeHead(401, {
      'www-authenticate': `Bearer realm="${realm}",service="pstore-test",scope="repository:test/cache:${reading ? 'pull' : 'pull,push'}"`,
    });
    res.end();
    return true;
  });
  realm = `http://${proxy.host}/token`;
  const src = await sourceStore(t, { files: 5 });
  const anon = await src.cli(['push', 'tool', '--to', proxy.remote(), '--json'], {
    env: await bareEnv(t),
  });
  t.is(anon.code, 8, describe(anon));
  await must(t, src.cli, ['push', 'tool', '--to', proxy.remote()], {
    env: { ...(await bareEnv(t)), ...CREDS },
  });
  t.true(proxy.log.count('GET', '/token') >= 1);
  const cliB = storeCli(path.join(await tempDir(t, 'oci-b'), 'store'));
  const pulled = await must(t, cliB, ['pull', 'tool@1.0', '--from', proxy.remote()], {
    env: await bareEnv(t),
  });
  t.regex(pulled.stdout, /pulled {2}tool@1\.0/);
});

function json(res: http.ServerResponse, status: number, body: unknown): true {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
  return true;
}
