// How the CLI speaks: results on stdout (human text, or one JSON document with --json), nothing on
// success with --quiet, errors as one line on stderr (a JSON {error} object with --json), and a
// progress line on stderr only when stderr is a terminal.

import { PstoreError } from '../lib/errors.js';
import type { ProgressEvent } from '../lib/index.js';
import { ProgressLine } from './progress.js';

export interface OutputMode {
  json: boolean;
  quiet: boolean;
}

export class Output {
  private progressShown = false;
  private lastProgress = 0;

  constructor(
    readonly mode: OutputMode,
    private readonly stdout = process.stdout,
    private readonly stderr = process.stderr,
  ) {}

  /** Print a command's result: `human` lines unless --json (then `value`) or --quiet. */
  result(value: unknown, human: () => string | string[]): void {
    this.clearProgress();
    if (this.mode.json) {
      this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
      return;
    }
    if (this.mode.quiet) return;
    const text = human();
    const lines = Array.isArray(text) ? text : [text];
    if (lines.length) this.stdout.write(`${lines.join('\n')}\n`);
  }

  /** Notes for people (waiting for a lock...): stderr, never with --quiet or --json. */
  note(message: string): void {
    if (this.mode.quiet || this.mode.json) return;
    this.clearProgress();
    this.stderr.write(`pstore: ${message}\n`);
  }

  /** --verbose lines (a transaction's steps and their times): stderr, never with --quiet. */
  verbose(message: string): void {
    if (this.mode.quiet) return;
    this.clearProgress();
    this.stderr.write(`pstore: ${message}\n`);
  }

  error(err: PstoreError): void {
    this.clearProgress();
    if (this.mode.json) {
      this.stderr.write(`${JSON.stringify({ error: err.toJSON() })}\n`);
    } else {
      this.stderr.write(`pstore: ${err.code}: ${err.message}${err.hint ? ` (${err.hint})` : ''}\n`);
    }
  }

  /** A listener for library progress events, or undefined when no terminal would show it. */
  progress(): ((e: ProgressEvent) => void) | undefined {
    if (this.mode.json || this.mode.quiet || !this.stderr.isTTY) return undefined;
    const line = new ProgressLine(formatBytes);
    let phase: string | undefined;
    return (e) => {
      const now = Date.now();
      // a new phase (planning, then linking) and an announcement (done 0: the totals are known)
      // show at once; within a phase, at most every 100 ms
      if (e.phase === phase && e.done !== 0 && now - this.lastProgress < 100) return;
      [phase, this.lastProgress] = [e.phase, now];
      this.stderr.write(`\r\x1b[K${line.render(e, now, this.stderr.columns || 80)}`);
      this.progressShown = true;
    };
  }

  private clearProgress(): void {
    if (this.progressShown) {
      this.stderr.write('\r\x1b[K');
      this.progressShown = false;
    }
  }
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** Rows of cells as columns two spaces apart; the columns listed in `right` align right. */
export function table(rows: readonly string[][], right: readonly number[] = []): string[] {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  return rows.map((row) =>
    row
      .map((cell, i) => {
        if (i === row.length - 1 && !right.includes(i)) return cell;
        return right.includes(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!);
      })
      .join('  '),
  );
}

/** "1 file", "2 files". */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}
