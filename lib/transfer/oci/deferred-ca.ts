// Extra CA certificates the `pstore` command kept from Node's start (cli/bin.cjs, SPEC.md §Start-up
// cost): Node 20 parses NODE_EXTRA_CA_CERTS, with its own roots, before any code runs, ~80 ms of CPU
// that only an HTTPS remote needs. The launcher hands the file over as PSTORE_DEFERRED_CA_CERTS;
// here, at the first HTTPS request, the file's certificates are added to a copy of Node's default
// trust (its own roots, or the system store where Node uses that), as Node itself would have done
// at start, and every HTTPS connection of the process uses that context (fetch through undici's
// own fetch and Agent, streamed uploads through node:https). Without the variable, nothing
// changes: Node's default context, with whatever NODE_EXTRA_CA_CERTS Node loaded itself.

import fs from 'node:fs';
import type { SecureContext } from 'node:tls';
import type * as Undici from 'undici';

const DEFERRED_CA_VARIABLE = 'PSTORE_DEFERRED_CA_CERTS';

interface DeferredTls {
  secureContext: SecureContext;
  fetch: typeof Undici.fetch;
  agent: Undici.Agent;
}

let made: Promise<DeferredTls> | undefined;

/** Node's words for a file it cannot use; it goes on with the trust it had. */
function ignoring(file: string, why: string): void {
  process.emitWarning(`Ignoring extra certs from \`${file}\`, load failed: ${why}`);
}

/**
 * Node's default trust plus the certificates of `file`. The default context's store is copied
 * before the first certificate is added (Node's SecureContext.addCACert), so the process's other
 * contexts keep Node's default.
 */
async function trustedContext(file: string): Promise<SecureContext> {
  // node:tls is loaded for this case alone: a command that pulls over plain HTTP never compiles it.
  const tls = await import('node:tls');
  const context = tls.createSecureContext();
  let pem: string;
  try {
    pem = fs.readFileSync(file, 'utf8');
  } catch (err) {
    ignoring(file, (err as Error).message);
    return context;
  }
  // addCACert skips text that is no certificate without a word: say so, as Node would.
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    ignoring(file, 'no PEM certificate in it');
    return context;
  }
  const native = (context as { context?: { addCACert?: (pem: string) => void } }).context;
  if (typeof native?.addCACert !== 'function')
    // A Node without it: its own roots and the file (a system store Node used is not kept).
    return tls.createSecureContext({ ca: [...tls.rootCertificates, pem] });
  try {
    native.addCACert(pem);
  } catch (err) {
    ignoring(file, (err as Error).message); // a damaged certificate
  }
  return context;
}

async function deferredTls(file: string): Promise<DeferredTls> {
  const secureContext = await trustedContext(file);
  // undici's own fetch with its Agent (Node's fetch takes a dispatcher but exports no class to
  // make one, and another undici major's dispatcher need not fit it); loaded for this case alone.
  const undici = await import('undici');
  return {
    secureContext,
    fetch: undici.fetch,
    agent: new undici.Agent({ connect: { secureContext } }),
  };
}

/** The process's TLS context for `url` when certificates were deferred; undefined otherwise. */
export async function deferredTlsFor(url: URL): Promise<DeferredTls | undefined> {
  const file = process.env[DEFERRED_CA_VARIABLE];
  if (url.protocol !== 'https:' || !file) return undefined;
  made ??= deferredTls(file);
  // Made once per process; a failure (undici missing) is reported by each request, not kept.
  return made.catch((err: unknown) => {
    made = undefined;
    throw new Error('request failed', { cause: err });
  });
}

/** fetch, over the deferred TLS context where there is one. */
export async function fetchWithCa(url: URL, init: RequestInit): Promise<Response> {
  const deferred = await deferredTlsFor(url);
  if (!deferred) return fetch(url, init);
  return deferred.fetch(url, {
    ...(init as Undici.RequestInit),
    dispatcher: deferred.agent,
  }) as unknown as Promise<Response>;
}
