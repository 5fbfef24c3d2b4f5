// The progress line (SPEC.md §Progress): what a phase has done, out of its total when the library
// knows it, with a percentage and a rate since the phase began, e.g.
//   add: 4,210/10,000 files, 40.1 MiB/95.0 MiB (42%) 12.3 MiB/s usr/lib/libfoo.so
// Pure: Output decides when a line may be shown (a terminal, no --json, no --quiet) and how often.

import type { ProgressEvent } from '../lib/index.js';

/** Phases named after the command a user typed, where the library's name differs. */
const LABELS: Partial<Record<ProgressEvent['phase'], string>> = { ingest: 'add' };

const SINGULAR: Record<ProgressEvent['unit'], string> = {
  files: 'file',
  members: 'member',
  entries: 'entry',
  steps: 'step',
};

export class ProgressLine {
  private phase: string | undefined;
  private startedAt = 0;

  /** `formatBytes` is output.ts's, passed in so that the two modules do not import each other */
  constructor(private readonly formatBytes: (n: number) => string) {}

  /** The line for `e` at time `now` (ms), cut to `width` columns. */
  render(e: ProgressEvent, now: number, width = 80): string {
    if (e.phase !== this.phase) {
      this.phase = e.phase;
      this.startedAt = now;
    }
    const label = LABELS[e.phase] ?? e.phase;
    const known = e.total !== undefined || e.totalBytes !== undefined;
    if (e.unit === 'steps' || (e.done === 0 && !known)) return `${label}...`;
    const parts = [`${label}:`, this.amounts(e)];
    const percent = percentOf(e);
    if (percent !== undefined) parts.push(`(${percent}%)`);
    const rate = this.rateOf(e, (now - this.startedAt) / 1000);
    if (rate) parts.push(rate);
    if (e.subject) parts.push(e.subject);
    return parts.join(' ').slice(0, Math.max(1, width - 1));
  }

  /** "4,210/10,000 files, 40.1 MiB/95.0 MiB": each count out of its total where known. */
  private amounts(e: ProgressEvent): string {
    const one = e.done === 1 && e.total === undefined; // "1 file", but "1/3 files"
    const items = `${outOf(e.done, e.total, thousands)} ${one ? SINGULAR[e.unit] : e.unit}`;
    if (e.bytes === undefined) return items;
    return `${items}, ${outOf(e.bytes, e.totalBytes, this.formatBytes)}`;
  }

  /** Bytes per second when bytes are counted, else units per second; none in the first half second. */
  private rateOf(e: ProgressEvent, seconds: number): string | undefined {
    if (seconds < 0.5 || e.done === 0) return undefined;
    if (e.bytes !== undefined) return `${this.formatBytes(e.bytes / seconds)}/s`;
    return `${thousands(Math.round(e.done / seconds))} ${e.unit}/s`;
  }
}

/** How far the phase has come, in whole percent: by bytes where their total is known, else units. */
export function percentOf(e: ProgressEvent): number | undefined {
  // a directory of empty files has 0 bytes to read but still files to count
  const byBytes = e.totalBytes !== undefined && (e.totalBytes > 0 || e.total === undefined);
  const [done, total] = byBytes ? [e.bytes ?? 0, e.totalBytes] : [e.done, e.total];
  if (total === undefined) return undefined;
  if (total === 0) return 100;
  return Math.floor(Math.min(1, Math.max(0, done / total)) * 100);
}

function outOf(done: number, total: number | undefined, show: (n: number) => string): string {
  return total === undefined ? show(done) : `${show(done)}/${show(total)}`;
}

function thousands(n: number): string {
  return n.toLocaleString('en-US');
}
