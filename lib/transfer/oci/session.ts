// What push and pull share: their options, opening a client for a remote (credentials found once),
// a private staging directory, and the progress counter.

import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ProgressListener } from '../../core/types.js';
import { RegistryClient } from './client.js';
import { findCredentials } from './credentials.js';
import { RegistryHttp } from './http.js';
import { parseRemote } from './remote-ref.js';

/** Options of {@link Store.push} and {@link Store.pull}; all optional. */
export interface RemoteOptions {
  /** plain HTTP to a host that is not loopback (loopback hosts always use it) */
  plainHttp?: boolean;
  /** check what would be transferred; upload, download and import nothing */
  dryRun?: boolean;
  /** entries transferred at once (default 4) */
  concurrency?: number;
  /** receives `push` or `pull` events: `done`/`total` in entries, `bytes` transferred */
  onProgress?: ProgressListener;
  /** one line per HTTP request: method, URL, status; never a header or a secret */
  onRequest?: (line: string) => void;
  /** where credentials are looked up (default process.env) */
  env?: Record<string, string | undefined>;
}

export async function openRemote(
  remote: string,
  opts: RemoteOptions,
  actions: 'pull' | 'pull,push',
): Promise<RegistryClient> {
  const parsed = parseRemote(remote, { plainHttp: opts.plainHttp ?? false });
  const credentials = await findCredentials(parsed.host, opts.env);
  return new RegistryClient(
    new RegistryHttp(parsed, {
      credentials,
      actions,
      ...(opts.onRequest ? { onRequest: opts.onRequest } : {}),
    }),
  );
}

/** A staging directory outside the store (gc sweeps the store's tmp/), removed by `using`. */
export async function stagingDir(tag: string): Promise<AsyncDisposable & { dir: string }> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), `pstore-${tag}-`));
  return { dir, [Symbol.asyncDispose]: () => fsp.rm(dir, { recursive: true, force: true }) };
}

/** Counts entries and bytes for progress events of one phase. */
export class TransferProgress {
  done = 0;
  bytes = 0;

  constructor(
    private readonly phase: 'push' | 'pull',
    private readonly total: number,
    private readonly listener: ProgressListener | undefined,
  ) {}

  addBytes(n: number, subject: string): void {
    this.bytes += n;
    this.emit(subject);
  }

  entryDone(subject: string): void {
    this.done++;
    this.emit(subject);
  }

  private emit(subject: string): void {
    this.listener?.({
      phase: this.phase,
      unit: 'entries',
      done: this.done,
      total: this.total,
      bytes: this.bytes,
      subject,
    });
  }
}
