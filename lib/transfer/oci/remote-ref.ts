// A remote is `oci://HOST[:PORT]/REPOSITORY`: one repository of an OCI registry holds a whole cache.
// HTTPS always, except for loopback hosts or an explicit plainHttp (as Docker treats localhost).

import { PstoreError } from '../../core/errors.js';

/** A parsed `oci://HOST[:PORT]/REPOSITORY` remote. */
export interface Remote {
  /** `oci://HOST[:PORT]/REPOSITORY`, for messages (a remote never carries credentials) */
  display: string;
  /** HOST[:PORT], the key of Docker's config.json `auths` */
  host: string;
  /** the repository path, lowercase (`a-z0-9`, `.`, `_`, `-`, `/`) */
  repository: string;
  /** `https://HOST[:PORT]` (or http) */
  origin: string;
}

// distribution-spec: lowercase path components separated by `/`.
const REPOSITORY =
  /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::([0-9]{1,5}))?$/;

export function isLoopback(host: string): boolean {
  const name = host.replace(/:[0-9]+$/, '');
  return name === 'localhost' || /^127\.[0-9.]+$/.test(name) || name === '[::1]';
}

/**
 * Parse `oci://HOST[:PORT]/REPOSITORY`; EPSTORE_USAGE when malformed. Loopback hosts (and any host
 * with `plainHttp`) are reached over plain HTTP, others over HTTPS.
 */
export function parseRemote(text: string, opts: { plainHttp?: boolean } = {}): Remote {
  const bad = (why: string) =>
    new PstoreError('EPSTORE_USAGE', `remote ${JSON.stringify(text)}: ${why}`, {
      subject: text,
      hint: 'a remote is oci://HOST[:PORT]/REPOSITORY',
    });
  if (!text.startsWith('oci://')) throw bad('does not start with oci://');
  const rest = text.slice('oci://'.length);
  const slash = rest.indexOf('/');
  if (slash < 0) throw bad('names no repository');
  const host = rest.slice(0, slash);
  const repository = rest.slice(slash + 1).replace(/\/+$/, '');
  const port = HOST.exec(host)?.[1];
  if (!HOST.test(host) || (port !== undefined && Number(port) > 65535))
    throw bad(`${JSON.stringify(host)} is not a host name with an optional port`);
  if (!REPOSITORY.test(repository) || host.length + repository.length > 254)
    throw bad(
      `${JSON.stringify(repository)} is not a repository name (lowercase a-z0-9 and . _ - /)`,
    );
  const scheme = opts.plainHttp || isLoopback(host) ? 'http' : 'https';
  return {
    display: `oci://${host}/${repository}`,
    host,
    repository,
    origin: `${scheme}://${host}`,
  };
}
