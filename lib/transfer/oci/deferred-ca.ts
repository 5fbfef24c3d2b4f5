// Extra CA certificates the `pstore` command kept from Node's start (cli/bin.cjs, SPEC.md §Start-up
// cost): Node 20 parses NODE_EXTRA_CA_CERTS, with its own roots, before any code runs, ~80 ms of CPU
// that only an HTTPS remote needs. The launcher hands the file over as PSTORE_DEFERRED_CA_CERTS;
// here, at the first HTTPS request, Node's roots and that file become one TLS context that every
// HTTPS connection of the process uses (fetch through an undici Agent, streamed uploads through
// node:https), as Node itself would have done at start. Without the variable, nothing changes:
// Node's default context, with whatever NODE_EXTRA_CA_CERTS Node loaded itself.

import fs from 'node:fs';
import type { SecureContext } from 'node:tls';
import type { Agent } from 'undici';

const DEFERRED_CA_VARIABLE = 'PSTORE_DEFERRED_CA_CERTS';

interface DeferredTls {
  secureContext: SecureContext;
  agent: Agent;
}

let made: Promise<DeferredTls> | undefined;

async function deferredTls(file: string): Promise<DeferredTls> {
  let extra: string[] = [];
  try {
    extra = [fs.readFileSync(file, 'utf8')];
  } catch (err) {
    // Node's own words and behaviour for an unreadable file: warn, go on with its roots.
    process.emitWarning(
      `Ignoring extra certs from \`${file}\`, load failed: ${(err as Error).message}`,
    );
  }
  // node:tls and undici are loaded for this case alone (Node 20's fetch takes a dispatcher but
  // exports none): a command that only pulls over plain HTTP never compiles them.
  const tls = await import('node:tls');
  const secureContext = tls.createSecureContext({ ca: [...tls.rootCertificates, ...extra] });
  const { Agent } = await import('undici');
  return { secureContext, agent: new Agent({ connect: { secureContext } }) };
}

/** The process's TLS context for `url` when certificates were deferred; undefined otherwise. */
export async function deferredTlsFor(url: URL): Promise<DeferredTls | undefined> {
  const file = process.env[DEFERRED_CA_VARIABLE];
  if (url.protocol !== 'https:' || !file) return undefined;
  return (made ??= deferredTls(file));
}

/** fetch, over the deferred TLS context where there is one. */
export async function fetchWithCa(url: URL, init: RequestInit): Promise<Response> {
  const deferred = await deferredTlsFor(url);
  if (!deferred) return fetch(url, init);
  // Node's fetch accepts the undici package's dispatcher (same major as Node 20's own undici).
  return fetch(url, { ...init, dispatcher: deferred.agent } as RequestInit);
}
