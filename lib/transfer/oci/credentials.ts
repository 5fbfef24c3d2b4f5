// Where registry credentials come from, as other OCI tools find them: PSTORE_REGISTRY_USERNAME and
// PSTORE_REGISTRY_PASSWORD, else the `auths` entry for the host in Docker's config.json
// ($DOCKER_CONFIG/config.json or ~/.docker/config.json). Never from the command line (it shows in
// `ps`), and never printed: messages name only where credentials came from.

import os from 'node:os';
import path from 'node:path';
import { invalidFile, readOptionalJson } from './json-file.js';

export interface Credentials {
  username: string;
  password: string;
  /** where they came from, for messages: an environment variable or a config file */
  source: string;
}

type Env = Record<string, string | undefined>;

export async function findCredentials(
  host: string,
  env: Env = process.env,
): Promise<Credentials | undefined> {
  const username = env.PSTORE_REGISTRY_USERNAME;
  const password = env.PSTORE_REGISTRY_PASSWORD;
  if (username && password !== undefined)
    return { username, password, source: 'PSTORE_REGISTRY_USERNAME/PASSWORD' };
  return dockerConfigCredentials(host, env);
}

function dockerConfigFile(env: Env): string {
  const dir = env.DOCKER_CONFIG || path.join(env.HOME || os.homedir(), '.docker');
  return path.join(dir, 'config.json');
}

async function dockerConfigCredentials(host: string, env: Env): Promise<Credentials | undefined> {
  const file = dockerConfigFile(env);
  const config = await readOptionalJson('docker config', file);
  const invalid = (why: string) => invalidFile('docker config', file, why);
  const auths = (config as { auths?: unknown } | null)?.auths;
  if (typeof auths !== 'object' || auths === null) return undefined;
  // Keys are written as `host`, `https://host` or `https://host/v1/` by different tools.
  const key = Object.keys(auths).find((k) => k.replace(/^[a-z]+:\/\//, '').split('/')[0] === host);
  if (key === undefined) return undefined;
  const entry = (
    auths as Record<string, { auth?: unknown; username?: unknown; password?: unknown }>
  )[key];
  if (typeof entry?.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 1)
      throw invalid(`auths[${JSON.stringify(key)}].auth is not base64 of USER:PASSWORD`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source: file };
  }
  if (typeof entry?.username === 'string' && typeof entry.password === 'string')
    return { username: entry.username, password: entry.password, source: file };
  return undefined;
}
