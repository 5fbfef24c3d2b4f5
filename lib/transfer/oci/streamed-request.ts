// A request whose body is a stream, sent over node:http/node:https rather than fetch: Node 20's
// fetch reads an upload body ahead of the socket without bound, so a large blob went into memory
// whole. Here the body is piped into the socket with backpressure (`stream.pipeline`), so peak RSS
// does not grow with the blob's size. The answer becomes a fetch `Response` (its body is small:
// an upload's answer is empty or a JSON error), so RegistryHttp handles both paths alike.

import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { deferredTlsFor } from './deferred-ca.js';

/** statuses whose Response may not carry a body */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

export async function sendStreamed(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: Readable,
): Promise<Response> {
  const secureContext = (await deferredTlsFor(url))?.secureContext;
  return new Promise((resolve, reject) => {
    const req =
      url.protocol === 'https:'
        ? https.request(url, { method, headers, ...(secureContext ? { secureContext } : {}) })
        : http.request(url, { method, headers });
    // Wrapped like fetch's "fetch failed", so the caller reads the system code from `cause`.
    req.once('error', (err) => reject(new Error('request failed', { cause: err })));
    req.once('response', (incoming) => {
      // The registry may answer (401, 413) before the whole body is sent: stop reading the file.
      body.destroy();
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.once('error', (err) => reject(new Error('request failed', { cause: err })));
      incoming.once('end', () => resolve(toResponse(incoming, Buffer.concat(chunks))));
    });
    // A failed pipe (file unreadable, socket reset) destroys `req`, which reports it above.
    pipeline(body, req).catch(() => undefined);
  });
}

function toResponse(incoming: http.IncomingMessage, bytes: Buffer): Response {
  const status = incoming.statusCode ?? 0;
  const headers = new Headers();
  for (let i = 0; i + 1 < incoming.rawHeaders.length; i += 2)
    headers.append(incoming.rawHeaders[i]!, incoming.rawHeaders[i + 1]!);
  return new Response(NULL_BODY_STATUSES.has(status) ? null : bytes, { status, headers });
}
