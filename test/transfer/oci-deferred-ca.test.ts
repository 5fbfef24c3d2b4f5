// Certificates deferred by the `pstore` launcher (PSTORE_DEFERRED_CA_CERTS, SPEC.md §Start-up cost)
// are trusted by every HTTPS request pstore makes: a registry call over fetch, the token realm it
// names, and a streamed blob upload over node:https. A real HTTPS server on 127.0.0.1 with a
// certificate from a CA made for the test; the client runs in a new process, as the variable is read
// there, and talks to it through RegistryHttp (the CLI reaches loopback over plain HTTP, so this is
// the layer where HTTPS can be tried without a network).

import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import test, { type ExecutionContext } from 'ava';
import { REPO, assertBuilt, childEnv } from '../_helpers/cli.js';
import { tempDir } from '../_helpers/tmp.js';

const run = promisify(execFile);

/** A CA and a certificate it signed for 127.0.0.1, made by openssl in `dir`. */
async function makeCertificates(dir: string, name: string) {
  const at = (f: string) => path.join(dir, `${name}-${f}`);
  const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });
  await openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${name} CA`,
    '-keyout',
    at('ca.key'),
    '-out',
    at('ca.pem'),
  );
  await openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    at('key.pem'),
    '-out',
    at('csr.pem'),
  );
  await fsp.writeFile(at('ext'), 'subjectAltName=IP:127.0.0.1\n');
  await openssl(
    'x509',
    '-req',
    '-in',
    at('csr.pem'),
    '-CA',
    at('ca.pem'),
    '-CAkey',
    at('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    at('ext'),
    '-out',
    at('cert.pem'),
  );
  return { ca: at('ca.pem'), key: at('key.pem'), cert: at('cert.pem') };
}

/** A registry's /v2/ behind a Bearer challenge whose realm is on the same HTTPS server. */
async function startServer(t: ExecutionContext, key: string, cert: string) {
  const seen: string[] = [];
  const server = https.createServer(
    { key: await fsp.readFile(key), cert: await fsp.readFile(cert) },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push(
          `${req.method} ${req.url!.split('?')[0]} ${Buffer.concat(chunks).toString()}`.trimEnd(),
        );
        const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
        if (req.url!.startsWith('/token')) return res.end(JSON.stringify({ token: 'tok' }));
        if (req.headers.authorization !== 'Bearer tok') {
          res.writeHead(401, { 'www-authenticate': `Bearer realm="${origin}/token",service="t"` });
          return res.end();
        }
        res.writeHead(req.method === 'PUT' ? 201 : 200);
        res.end('{}');
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as AddressInfo).port, seen };
}

/** GET /v2/ (challenge, token) and a streamed PUT, in a new process with `env` (and `node` flags). */
async function client(port: number, env: Record<string, string>, flags: string[] = []) {
  assertBuilt();
  const http = pathToFileURL(path.join(REPO, 'dist/lib/transfer/oci/http.js')).href;
  const script = `
    const { RegistryHttp } = await import(${JSON.stringify(http)});
    const { Readable } = await import('node:stream');
    const origin = 'https://127.0.0.1:${port}';
    const remote = { display: 'oci://127.0.0.1:${port}/t', host: '127.0.0.1:${port}', repository: 't', origin };
    const reg = new RegistryHttp(remote, { credentials: undefined, actions: 'pull', retries: 0 });
    try {
      const a = await reg.request({ method: 'GET', url: '/v2/', accept: [200] });
      const body = () => Readable.from([Buffer.from('blob')]);
      const b = await reg.request({ method: 'PUT', url: '/v2/t/blobs/uploads/1', body, accept: [201] });
      console.log(JSON.stringify([a.status, b.status]));
    } catch (err) {
      console.log(JSON.stringify({ code: err.code, message: err.message }));
    }`;
  const r = await run(process.execPath, [...flags, '--input-type=module', '-e', script], {
    env: childEnv({ NODE_EXTRA_CA_CERTS: undefined, ...env }),
  });
  return { answer: JSON.parse(r.stdout) as unknown, stderr: r.stderr };
}

test('deferred CA certificates: the registry, its token realm and a streamed upload over HTTPS', async (t) => {
  const dir = await tempDir(t, 'tls');
  const ours = await makeCertificates(dir, 'ours');
  const server = await startServer(t, ours.key, ours.cert);
  const r = await client(server.port, { PSTORE_DEFERRED_CA_CERTS: ours.ca });
  t.deepEqual(r.answer, [200, 201]);
  t.deepEqual(server.seen, [
    'GET /v2/',
    'GET /token',
    'GET /v2/',
    'PUT /v2/t/blobs/uploads/1 blob',
  ]);
});

test('without them, or with another CA, or an unreadable file: the certificate is refused', async (t) => {
  const dir = await tempDir(t, 'tls');
  const ours = await makeCertificates(dir, 'ours');
  const other = await makeCertificates(dir, 'other');
  const server = await startServer(t, ours.key, ours.cert);
  for (const env of [{}, { PSTORE_DEFERRED_CA_CERTS: other.ca }] as Record<string, string>[]) {
    const r = await client(server.port, env);
    t.like(r.answer, { code: 'EPSTORE_REMOTE' }, JSON.stringify(env));
    t.regex((r.answer as { message: string }).message, /cannot reach the registry/);
  }
  const missing = await client(server.port, { PSTORE_DEFERRED_CA_CERTS: path.join(dir, 'absent') });
  t.like(missing.answer, { code: 'EPSTORE_REMOTE' });
  t.regex(missing.stderr, /Ignoring extra certs from `.*absent`/);
  t.deepEqual(server.seen, [], 'no request got through');
});

test("deferred certificates add to the trust Node has: the system store of --use-openssl-ca is kept; a file that is not PEM is ignored with Node's warning", async (t) => {
  const dir = await tempDir(t, 'tls');
  const system = await makeCertificates(dir, 'system');
  const other = await makeCertificates(dir, 'other');
  const server = await startServer(t, system.key, system.cert);
  // OpenSSL's default store, which --use-openssl-ca trusts, is the one file SSL_CERT_FILE names.
  const openssl = ['--use-openssl-ca'];
  const inStore = { SSL_CERT_FILE: system.ca };
  const added = await client(
    server.port,
    { ...inStore, PSTORE_DEFERRED_CA_CERTS: other.ca },
    openssl,
  );
  t.deepEqual(added.answer, [200, 201], 'the system store still counts with an extra CA');
  const garbage = path.join(dir, 'garbage.pem');
  await fsp.writeFile(garbage, 'not a certificate\n');
  const ignored = await client(
    server.port,
    { ...inStore, PSTORE_DEFERRED_CA_CERTS: garbage },
    openssl,
  );
  t.deepEqual(ignored.answer, [200, 201]);
  t.regex(ignored.stderr, /Ignoring extra certs from `.*garbage\.pem`/);
});
