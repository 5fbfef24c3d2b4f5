// A proxy hook that refuses the first requests to each matching path with a chosen status (429
// with Retry-After, 503 without, 413 for a monolithic upload), then lets the registry answer. Every
// matching request is recorded with the time it arrived, so a test can measure the client's waits.

import type http from 'node:http';
import { performance } from 'node:perf_hooks';
import { describe, type CliResult } from './cli.js';
import type { ProxyHook } from './registry.js';

export interface Refusal {
  /** the status answered instead of the registry's */
  status: number;
  /** a Retry-After header value, if any */
  retryAfter?: string;
  /** requests refused per path before the registry answers (Infinity: always) */
  times: number;
  /** which requests are refused */
  match(req: http.IncomingMessage): boolean;
}

export interface SeenRequest {
  method: string;
  /** the URL path without its query (an upload session's state) */
  path: string;
  /** performance.now() when the request arrived */
  at: number;
  /** performance.now() just before the refusal was sent (undefined: the registry answered) */
  refusedAt?: number;
}

export function refusingHook(refusal: Refusal): { hook: ProxyHook; seen: SeenRequest[] } {
  const seen: SeenRequest[] = [];
  const refusedPerPath = new Map<string, number>();
  const hook: ProxyHook = async (req, res) => {
    if (!refusal.match(req)) return false;
    const at = performance.now();
    const key = `${req.method} ${new URL(req.url!, 'http://x').pathname}`;
    const record: SeenRequest = { method: req.method!, path: key.slice(key.indexOf(' ') + 1), at };
    seen.push(record);
    if ((refusedPerPath.get(key) ?? 0) >= refusal.times) return false;
    refusedPerPath.set(key, (refusedPerPath.get(key) ?? 0) + 1);
    // Read the whole body first: a client still sending it would see a reset, not the status.
    for await (const _chunk of req) void _chunk;
    // Taken before the answer goes out: the client's wait starts after it, so a gap measured from
    // here never reads short because this process was descheduled after writing (a loaded machine).
    record.refusedAt = performance.now();
    res.writeHead(refusal.status, {
      'content-type': 'application/json',
      ...(refusal.retryAfter === undefined ? {} : { 'retry-after': refusal.retryAfter }),
    });
    res.end(
      JSON.stringify({ errors: [{ code: 'TEST_REFUSAL', message: 'refused by the proxy' }] }),
    );
    return true;
  };
  return { hook, seen };
}

/** For each path refused at least once: the gaps (ms) from a refusal sent to the next request. */
export function retryGaps(seen: readonly SeenRequest[]): number[][] {
  const byPath = new Map<string, SeenRequest[]>();
  for (const s of seen) byPath.set(s.path, [...(byPath.get(s.path) ?? []), s]);
  const gaps: number[][] = [];
  for (const list of byPath.values()) {
    const own: number[] = [];
    for (let i = 1; i < list.length; i++)
      if (list[i - 1]!.refusedAt !== undefined) own.push(list[i]!.at - list[i - 1]!.refusedAt!);
    if (own.length) gaps.push(own);
  }
  return gaps;
}

/** How many requests the proxy saw per path (the first attempt and every retry). */
export function attemptsByPath(seen: readonly SeenRequest[]): Map<string, number> {
  const attempts = new Map<string, number>();
  for (const s of seen) attempts.set(s.path, (attempts.get(s.path) ?? 0) + 1);
  return attempts;
}

/** A `--json` run that ended in EPSTORE_REMOTE (exit 8) naming `remote` and `status`: its message. */
export function remoteErrorOf(
  t: import('ava').ExecutionContext,
  r: CliResult,
  remote: string,
  status: number,
): string {
  t.is(r.code, 8, describe(r));
  const err = JSON.parse(r.stderr) as {
    error: { code: string; message: string; subject: string; data: { status: number } };
  };
  t.is(err.error.code, 'EPSTORE_REMOTE');
  t.is(err.error.subject, remote);
  t.is(err.error.data.status, status);
  return err.error.message;
}
