// Requests to one registry repository over Node's built-in fetch (a blob streamed from a file goes
// over node:http, see streamed-request.ts): the Authorization header of the answered challenge,
// redirects followed by hand (Authorization is dropped when the host changes, as the distribution
// spec requires), retries with backoff on connection errors, 429 and 5xx (honouring Retry-After),
// and every other unexpected status as EPSTORE_REMOTE naming the status.

import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Authenticator, causeOf, remoteError } from './challenge.js';
import { fetchWithCa } from './deferred-ca.js';
import { sendStreamed } from './streamed-request.js';
import type { Credentials } from './credentials.js';
import type { Remote } from './remote-ref.js';

export interface HttpOptions {
  credentials: Credentials | undefined;
  /** `pull` or `pull,push` */
  actions: string;
  /** one line per request: method, URL and status, never a header */
  onRequest?: (line: string) => void;
  /** retries after the first attempt (default 3) */
  retries?: number;
}

export interface RequestSpec {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** a path below the origin, or an absolute URL (an upload Location) */
  url: string;
  headers?: Record<string, string>;
  /** a fresh body per attempt, so a retry can resend it (a file is reopened) */
  body?: () => Buffer | Readable;
  /** statuses the caller handles; any other is an error */
  accept: readonly number[];
}

const MAX_REDIRECTS = 5;
const MAX_DELAY_MS = 30_000;

export class RegistryHttp {
  readonly auth: Authenticator;
  private readonly retries: number;

  constructor(
    readonly remote: Remote,
    private readonly opts: HttpOptions,
  ) {
    this.auth = new Authenticator(remote, opts.credentials, opts.actions, opts.onRequest);
    this.retries = opts.retries ?? 3;
  }

  url(pathOrUrl: string): URL {
    return new URL(pathOrUrl, this.remote.origin);
  }

  async request(spec: RequestSpec): Promise<Response> {
    // A cached header may have expired (tokens live 60 s): one fresh answer per request, and a
    // 401 after that answer means the credentials were refused.
    let answered = false;
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await this.follow(spec);
      } catch (err) {
        if (attempt < this.retries) {
          await sleep(backoff(attempt));
          continue;
        }
        throw remoteError(this.remote, `cannot reach the registry: ${causeOf(err)}`);
      }
      if (res.status === 401 && !answered) {
        await res.body?.cancel();
        await this.auth.answer(res.headers.get('www-authenticate'));
        answered = true;
        attempt--;
        continue;
      }
      if (spec.accept.includes(res.status)) return res;
      if ((res.status === 429 || res.status >= 500) && attempt < this.retries) {
        await res.body?.cancel();
        await sleep(retryAfter(res.headers.get('retry-after')) ?? backoff(attempt));
        continue;
      }
      throw await this.failure(spec, res);
    }
  }

  private async follow(spec: RequestSpec): Promise<Response> {
    let url = this.url(spec.url);
    let method: string = spec.method;
    let sendAuth = true;
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { ...spec.headers };
      if (sendAuth && this.auth.header) headers.authorization = this.auth.header;
      const body = method === spec.method ? spec.body?.() : undefined;
      const res = await send(url, method, headers, body);
      // The path only: an upload URL's query carries the registry's session state.
      this.opts.onRequest?.(`${method} ${url.origin}${url.pathname} -> ${res.status}`);
      const location = res.headers.get('location');
      if (![301, 302, 303, 307, 308].includes(res.status) || !location || hop >= MAX_REDIRECTS)
        return res;
      await res.body?.cancel();
      const next = new URL(location, url);
      if (next.origin !== url.origin) sendAuth = false;
      if (res.status === 303) method = 'GET';
      url = next;
    }
  }

  private async failure(spec: RequestSpec, res: Response): Promise<Error> {
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      return this.auth.refused(res.status);
    }
    const text = spec.method === 'HEAD' ? '' : await res.text().catch(() => '');
    let registryCode: string | undefined;
    let detail = '';
    try {
      const first = (JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> })
        .errors?.[0];
      registryCode = first?.code;
      detail = first ? `: ${first.code ?? ''} ${first.message ?? ''}`.trimEnd() : '';
    } catch {
      // not the registry's JSON error body: the status says enough
    }
    const where = this.url(spec.url).pathname;
    return remoteError(this.remote, `${spec.method} ${where}: HTTP ${res.status}${detail}`, {
      status: res.status,
      ...(registryCode === undefined ? {} : { registryCode }),
    });
  }
}

/** a streamed body over node:http (fetch buffers it); everything else over fetch */
function send(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: Buffer | Readable | undefined,
): Promise<Response> {
  if (body instanceof Readable) return sendStreamed(url, method, headers, body);
  return fetchWithCa(url, {
    method,
    headers,
    redirect: 'manual',
    ...(body === undefined ? {} : { body }),
  });
}

function backoff(attempt: number): number {
  return Math.min(MAX_DELAY_MS, 250 * 2 ** attempt) * (0.75 + Math.random() / 2);
}

/** Retry-After as seconds or an HTTP date, capped; undefined when absent or unreadable. */
export function retryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = /^\d+$/.test(value.trim())
    ? Number(value) * 1000
    : Date.parse(value) - Date.now();
  return Number.isFinite(seconds) ? Math.min(MAX_DELAY_MS, Math.max(0, seconds)) : undefined;
}
