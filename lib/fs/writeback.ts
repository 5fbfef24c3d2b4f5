// Overlapping the flush with the writes it will make durable (SPEC.md §Add, step 5). An ingest
// writes objects unflushed and flushes the filesystem once before the manifest; left alone, the
// kernel writes those bytes back only then (or after its 30 s expiry), so the disk idles while
// the CPU hashes and the CPU idles while the disk flushes. A syncfs started in the background
// each time enough bytes were written since the last one lets the disk work meanwhile: the final
// flush finds little left. Each is only a head start; the final flush is what a commit relies on.

import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { PstoreError } from '../core/errors.js';
import { syncFilesystem } from './atomic.js';

/** Bytes written between two background flushes: each costs a `sync` process in the helper. */
export const WRITEBACK_BYTES = 16 * 1024 * 1024;

/**
 * Node has no syncfs(2), and starting a `sync -f` child from a Node process costs its main thread
 * 10-25 ms of CPU each (fork, pipes, a ChildProcess); an add of 200 MiB flushes a dozen times. One
 * `sh` started on the first flush runs `sync -f ROOT` per request line instead and answers each
 * with the exit status: one Node spawn per add, the rest are `sh`'s own cheap forks.
 */
const SERVE = 'while read -r _; do sync -f "$1" 2>/dev/null; echo $?; done';

/** syncfs of the filesystem holding `root`, as often as asked, through one helper process. */
export class FilesystemFlusher {
  private helper: FlushHelper | undefined;
  /** a helper could not start or died: each flush starts its own `sync` (syncFilesystem) */
  private broken = process.platform !== 'linux';

  constructor(readonly root: string) {}

  /**
   * Start the helper now (a flush is coming), where its start-up costs the caller least. Never
   * throws: a helper that cannot start leaves each flush to its own `sync` (syncFilesystem).
   */
  start(): void {
    if (this.broken || this.helper) return;
    try {
      this.helper = new FlushHelper(this.root);
    } catch {
      this.broken = true; // spawn refused at once (EMFILE, EAGAIN): no helper from now on
    }
  }

  /** Flush the filesystem; `EPSTORE_IO` naming the root when the flush fails. */
  async flush(): Promise<void> {
    this.start();
    const helper = this.helper;
    if (this.broken || !helper || helper.ended) {
      this.broken = true;
      return syncFilesystem(this.root);
    }
    const status = await helper.ask();
    if (status instanceof Error) {
      this.broken = true; // the helper went: flush alone from now on
      // One that served before died with this flush under way: its `sync` may have taken the
      // filesystem's write-back error, which a new one would not see again. Not flushed, then.
      if (helper.served > 0) throw this.failed(`the flush helper ended: ${status.message}`);
      return syncFilesystem(this.root);
    }
    if (status !== '0') throw this.failed(`sync -f exited ${status}`);
  }

  private failed(why: string): PstoreError {
    const message = `cannot flush the filesystem holding ${this.root}: ${why}`;
    return new PstoreError('EPSTORE_IO', message, { subject: this.root });
  }

  /** End the helper (it exits at the end of its input); a flush after this starts a new one. */
  close(): void {
    this.helper?.close();
    this.helper = undefined;
  }
}

/** One `sh` serving flush requests: each written line is answered by a line, in order. */
class FlushHelper {
  private readonly child: ChildProcessByStdio<Writable, Readable, null>;
  private readonly waiting: Array<(status: string | Error) => void> = [];
  private answers = '';
  private gone: Error | undefined;
  /** requests answered so far */
  served = 0;

  constructor(root: string) {
    this.child = spawn('sh', ['-c', SERVE, 'sh', root], { stdio: ['pipe', 'pipe', 'ignore'] });
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk: string) => this.answered(chunk));
    this.child.on('error', (err) => this.end(err));
    this.child.on('close', () => this.end(new Error('the flush helper exited')));
    this.child.stdin.on('error', () => {}); // a write to a helper gone is answered by 'close'
  }

  /** The exit status of one `sync -f`, as text; an Error when the helper is gone. */
  ask(): Promise<string | Error> {
    if (this.gone) return Promise.resolve(this.gone);
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.child.stdin.write('\n');
    });
  }

  close(): void {
    this.child.stdin.end();
  }

  /** it exited, or never started: no request is answered any more */
  get ended(): boolean {
    return this.gone !== undefined;
  }

  private end(err: Error): void {
    this.gone ??= err;
    for (const resolve of this.waiting.splice(0)) resolve(this.gone);
  }

  /** Each answer line settles the oldest request (the helper serves them in order). */
  private answered(chunk: string): void {
    this.answers += chunk;
    let eol;
    while ((eol = this.answers.indexOf('\n')) !== -1) {
      const status = this.answers.slice(0, eol);
      this.answers = this.answers.slice(eol + 1);
      this.served++;
      this.waiting.shift()?.(status);
    }
  }
}

export class EarlyWriteback {
  private unflushed = 0;
  private running: Promise<void> | undefined;
  private failure: unknown;

  constructor(
    private readonly flusher: Pick<FilesystemFlusher, 'flush'>,
    private readonly everyBytes = WRITEBACK_BYTES,
  ) {}

  /** `bytes` more were written unflushed: start a background flush if enough have piled up. */
  wrote(bytes: number): void {
    this.unflushed += bytes;
    if (this.unflushed < this.everyBytes || this.running !== undefined) return;
    this.unflushed = 0;
    this.running = this.flusher.flush().then(
      () => {
        this.running = undefined;
      },
      (err: unknown) => {
        this.failure ??= err;
        this.running = undefined;
      },
    );
  }

  /**
   * Wait for a background flush under way. One that failed fails the ingest: a writeback error is
   * reported once, to the syncfs that saw it, so the final flush would not see it again.
   */
  async finish(): Promise<void> {
    await this.running;
    if (this.failure !== undefined) throw this.failure;
  }
}
