// A real CNCF Distribution registry (Debian's docker-registry 2.8.2) as a child process on
// 127.0.0.1 with a temporary config: filesystem storage in a temp dir, delete enabled, optionally
// htpasswd auth. The port is read from its "listening on 127.0.0.1:PORT" log line; the child is
// killed by pid at teardown. Missing binaries fail the test loudly: CI installs them (.ci/run).

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { tempDir } from './tmp.js';

export const REGISTRY_BIN = '/usr/bin/docker-registry';

/** user `pstore`, password `s3cret-pw` (bcrypt, cost 5): htpasswd may be missing, so a fixture */
export const TEST_USER = 'pstore';
export const TEST_PASSWORD = 's3cret-pw';
const HTPASSWD_LINE = `${TEST_USER}:$2b$05$S/.DAmm/vAS34xj6DKnMn.Uzk.diXMDPRc3gdSs8WgosLSwv9QvcO`;

export function requireTool(bin: string): void {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
  } catch {
    throw new Error(
      `${bin} is not installed: run \`apt-get install -y docker-registry skopeo\` (.ci/run does)`,
    );
  }
}

export interface Registry {
  /** 127.0.0.1:PORT */
  host: string;
  port: number;
  /** the registry's storage root (for tests that damage blobs) */
  data: string;
  config: string;
  child: ChildProcess;
  /** oci://127.0.0.1:PORT/REPO */
  remote(repo?: string): string;
  stop(): Promise<void>;
}

export async function startRegistry(
  t: ExecutionContext,
  opts: { auth?: boolean } = {},
): Promise<Registry> {
  requireTool(REGISTRY_BIN);
  const dir = await tempDir(t, 'registry');
  const data = path.join(dir, 'data');
  const config = path.join(dir, 'config.yml');
  const auth = opts.auth
    ? `auth:\n  htpasswd:\n    realm: pstore-test\n    path: ${path.join(dir, 'htpasswd')}\n`
    : '';
  if (opts.auth) await fsp.writeFile(path.join(dir, 'htpasswd'), `${HTPASSWD_LINE}\n`);
  await fsp.writeFile(
    config,
    `version: 0.1
log:
  level: info
  formatter: json
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${data}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:0
  secret: pstore-test-secret
${auth}`,
  );
  const child = spawn(REGISTRY_BIN, ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await listeningPort(child);
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  t.teardown(stop);
  const host = `127.0.0.1:${port}`;
  return {
    host,
    port,
    data,
    config,
    child,
    remote: (repo = 'test/cache') => `oci://${host}/${repo}`,
    stop,
  };
}

function listeningPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`docker-registry did not report its port within 30 s:\n${log}`));
    }, 30_000);
    const onData = (chunk: Buffer) => {
      log += chunk.toString('utf8');
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`docker-registry exited with ${code}:\n${log}`));
    });
  });
}

/** Every request a proxy saw: method and path (with query). */
export interface ProxyLog {
  requests: Array<{ method: string; path: string }>;
  count(method: string, pathPart: string): number;
}

export type ProxyHook = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
) => boolean | Promise<boolean>;

/**
 * A tiny HTTP proxy in front of a registry on 127.0.0.1: logs every request, and lets a hook answer
 * one itself (return true) — a Bearer challenge, altered or truncated bytes. Bodies are streamed.
 */
export async function startProxy(
  t: ExecutionContext,
  target: Registry,
  hook?: ProxyHook,
): Promise<{ host: string; log: ProxyLog; remote(repo?: string): string }> {
  const requests: ProxyLog['requests'] = [];
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '' });
    void (async () => {
      if (hook && (await hook(req, res))) return;
      forward(req, res, target.port);
    })().catch((err: unknown) => {
      res.statusCode = 502;
      res.end(String(err));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  t.teardown(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  const host = `127.0.0.1:${port}`;
  return {
    host,
    log: {
      requests,
      count: (method, part) =>
        requests.filter((q) => q.method === method && q.path.includes(part)).length,
    },
    remote: (repo = 'test/cache') => `oci://${host}/${repo}`,
  };
}

/** Pass a request on to the registry; `transform` may replace the response body. */
export function forward(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  port: number,
  transform?: (status: number, body: Buffer) => Buffer,
): void {
  // The proxy's own Host goes on: the registry builds upload Locations from it, so the uploads
  // that follow come through the proxy too.
  const headers = { ...req.headers };
  delete headers.authorization; // the proxy does its own auth; the registry behind it is open
  const up = http.request(
    { host: '127.0.0.1', port, method: req.method, path: req.url, headers },
    (upRes) => {
      if (!transform) {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      upRes.on('data', (c: Buffer) => chunks.push(c));
      upRes.on('end', () => {
        const body = transform(upRes.statusCode ?? 502, Buffer.concat(chunks));
        const h = { ...upRes.headers, 'content-length': String(body.length) };
        res.writeHead(upRes.statusCode ?? 502, h);
        res.end(body);
      });
    },
  );
  up.on('error', () => {
    res.statusCode = 502;
    res.end();
  });
  req.pipe(up);
}
