// Where the store lives: --store DIR, else $PSTORE_STORE, else $XDG_DATA_HOME/pstore, else
// ~/.local/share/pstore (SPEC.md §Store location).

import os from 'node:os';
import path from 'node:path';
import { PstoreError } from './errors.js';

export function resolveStoreRoot(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit === '')
    throw new PstoreError('EPSTORE_USAGE', 'the store path is empty', {
      subject: '',
      data: { option: 'store' },
    });
  if (explicit !== undefined) return path.resolve(explicit);
  if (env.PSTORE_STORE) return path.resolve(env.PSTORE_STORE);
  // The XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored.
  const xdg = env.XDG_DATA_HOME;
  const dataHome = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.local', 'share');
  return path.resolve(dataHome, 'pstore');
}

/** Default time to wait for a busy lock (seconds), shared by every command. */
export const DEFAULT_WAIT_SECONDS = 600;
