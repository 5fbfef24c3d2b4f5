// The remote used when a command names none: $PSTORE_REMOTE, else `remote` of pstore's config file
// ($XDG_CONFIG_HOME/pstore/config.json, else ~/.config/pstore/config.json). A flag on the command
// line wins over both; that choice is the caller's.

import os from 'node:os';
import path from 'node:path';
import { isPstoreError } from '../../core/errors.js';
import { invalidFile, readOptionalJson } from './json-file.js';
import { parseRemote } from './remote-ref.js';

/** A default remote and where it came from. */
export interface DefaultRemote {
  /** `oci://HOST[:PORT]/REPOSITORY` */
  remote: string;
  /** `PSTORE_REMOTE`, or the config file's path */
  source: string;
}

/** pstore's config file; a relative XDG_CONFIG_HOME is ignored, as the XDG spec says. */
export function pstoreConfigFile(env: Record<string, string | undefined> = process.env): string {
  const xdg = env.XDG_CONFIG_HOME;
  const home = xdg && path.isAbsolute(xdg) ? xdg : path.join(env.HOME || os.homedir(), '.config');
  return path.join(home, 'pstore', 'config.json');
}

/**
 * $PSTORE_REMOTE if non-empty, else the config file's `remote`, else undefined. A config file that
 * is not a JSON object, or whose `remote` is not a valid remote, is EPSTORE_INVALID naming it; the
 * file is not read when PSTORE_REMOTE is set.
 */
export async function defaultRemote(
  env: Record<string, string | undefined> = process.env,
): Promise<DefaultRemote | undefined> {
  if (env.PSTORE_REMOTE) return { remote: env.PSTORE_REMOTE, source: 'PSTORE_REMOTE' };
  const file = pstoreConfigFile(env);
  const config = await readOptionalJson('pstore config', file);
  if (config === undefined) return undefined;
  if (typeof config !== 'object' || config === null || Array.isArray(config))
    throw invalidFile('pstore config', file, 'is not a JSON object');
  const remote = (config as { remote?: unknown }).remote;
  if (remote === undefined) return undefined;
  if (typeof remote !== 'string')
    throw invalidFile('pstore config', file, '"remote" is not a string');
  try {
    parseRemote(remote);
  } catch (err) {
    if (!isPstoreError(err, 'EPSTORE_USAGE')) throw err;
    throw invalidFile('pstore config', file, `"remote": ${err.message}`);
  }
  return { remote, source: file };
}
