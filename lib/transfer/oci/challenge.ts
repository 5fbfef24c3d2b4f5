// Answering a registry's `WWW-Authenticate` challenge (distribution's token spec): Basic resends the
// credentials; Bearer fetches a token from the realm (anonymous when there are no credentials) for
// the challenge's scope. The resulting Authorization header is kept and reused; a secret never
// appears in a message or the request log.

import { PstoreError } from '../../core/errors.js';
import { fetchWithCa } from './deferred-ca.js';
import type { Credentials } from './credentials.js';
import { isLoopback, type Remote } from './remote-ref.js';

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** `Bearer realm="…",service="…",scope="…"`; the scheme lowercased, values unquoted. */
export function parseChallenge(header: string): Challenge {
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  const re = /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (const m of (space < 0 ? '' : header.slice(space + 1)).matchAll(re))
    params[m[1]!.toLowerCase()] = (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1');
  return { scheme, params };
}

export function remoteError(
  remote: Remote,
  message: string,
  data: { status?: number; registryCode?: string } = {},
): PstoreError {
  return new PstoreError('EPSTORE_REMOTE', `${remote.display}: ${message}`, {
    subject: remote.display,
    data: { remote: remote.display, ...data },
  });
}

function basic(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}

export class Authenticator {
  /** the Authorization header of the last answered challenge, reused on every request */
  header: string | undefined;

  constructor(
    private readonly remote: Remote,
    private readonly credentials: Credentials | undefined,
    /** `pull` or `pull,push`: the scope asked for when a Bearer challenge names none */
    private readonly actions: string,
    private readonly log: ((line: string) => void) | undefined,
  ) {}

  async answer(wwwAuthenticate: string | null): Promise<void> {
    const challenge = parseChallenge(wwwAuthenticate ?? '');
    if (challenge.scheme === 'basic') {
      if (!this.credentials) throw this.noCredentials();
      this.header = basic(this.credentials);
    } else if (challenge.scheme === 'bearer') {
      this.header = `Bearer ${await this.token(challenge.params)}`;
    } else {
      throw remoteError(
        this.remote,
        `HTTP 401 with an unsupported challenge ${JSON.stringify(challenge.scheme)}`,
        {
          status: 401,
        },
      );
    }
  }

  noCredentials(): PstoreError {
    return remoteError(
      this.remote,
      'HTTP 401: the registry needs credentials and none were found (set PSTORE_REGISTRY_USERNAME and PSTORE_REGISTRY_PASSWORD, or docker login)',
      { status: 401 },
    );
  }

  refused(status: number): PstoreError {
    const from = this.credentials ? ` (from ${this.credentials.source})` : '';
    return status === 401 && !this.credentials
      ? this.noCredentials()
      : remoteError(this.remote, `HTTP ${status}: the registry refused the credentials${from}`, {
          status,
        });
  }

  private async token(params: Record<string, string>): Promise<string> {
    const realm = params.realm;
    if (!realm || !/^https?:\/\//.test(realm))
      throw remoteError(this.remote, 'HTTP 401 with a Bearer challenge that names no realm', {
        status: 401,
      });
    const url = new URL(realm);
    // Credentials travel in clear only where the registry itself is spoken to in clear.
    if (
      url.protocol === 'http:' &&
      !isLoopback(url.host) &&
      !this.remote.origin.startsWith('http:')
    )
      throw remoteError(this.remote, `the token realm ${url.origin} is not HTTPS`, { status: 401 });
    if (params.service) url.searchParams.set('service', params.service);
    url.searchParams.set(
      'scope',
      params.scope ?? `repository:${this.remote.repository}:${this.actions}`,
    );
    const headers: Record<string, string> = this.credentials
      ? { authorization: basic(this.credentials) }
      : {};
    let res: Response;
    try {
      res = await fetchWithCa(url, { headers });
    } catch (err) {
      throw remoteError(
        this.remote,
        `cannot reach the token endpoint ${url.origin}: ${causeOf(err)}`,
      );
    }
    this.log?.(`GET ${url.origin}${url.pathname} (token) -> ${res.status}`);
    if (res.status === 401 || res.status === 403) throw this.refused(res.status);
    if (res.status !== 200)
      throw remoteError(this.remote, `token endpoint ${url.origin}: HTTP ${res.status}`, {
        status: res.status,
      });
    const body = (await res.json().catch(() => ({}))) as {
      token?: unknown;
      access_token?: unknown;
    };
    const token = typeof body.token === 'string' && body.token ? body.token : body.access_token;
    if (typeof token !== 'string' || token === '')
      throw remoteError(this.remote, `token endpoint ${url.origin} answered no token`, {
        status: 200,
      });
    return token;
  }
}

/** The system error behind a failed fetch (ECONNREFUSED, ENOTFOUND…), for messages. */
export function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return err instanceof Error ? err.message : String(err);
}
