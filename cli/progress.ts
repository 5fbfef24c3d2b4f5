// The progress line (SPEC.md §12.2): what a phase has done, with a bar, a percentage and the total
// when the library knows it, and a rate since the phase began. Pure: Output decides when a line
// may be shown (a terminal, no --json, no --quiet) and how often.

import type { ProgressEvent } from '../lib/index.js';

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
    const seconds = (now - this.startedAt) / 1000;
    const parts: string[] = [e.phase];
    if (e.done === 0 && e.total === undefined) parts[0] = `${e.phase}...`;
    else if (e.total !== undefined) parts.push(bar(e.done, e.total), `${e.done}/${e.total}`);
    else parts.push(String(e.done));
    if (e.bytes !== undefined) parts.push(this.formatBytes(e.bytes));
    const rate = this.rateOf(e, seconds);
    if (rate) parts.push(rate);
    if (e.subject) parts.push(e.subject);
    return parts.join(' ').slice(0, Math.max(1, width - 1));
  }

  /** Bytes per second when bytes are counted, else items per second; none in the first half second. */
  private rateOf(e: ProgressEvent, seconds: number): string | undefined {
    if (seconds < 0.5 || e.done === 0) return undefined;
    if (e.bytes !== undefined) return `${this.formatBytes(e.bytes / seconds)}/s`;
    return `${Math.round(e.done / seconds)}/s`;
  }
}

function bar(done: number, total: number, width = 20): string {
  const fraction = Math.min(1, Math.max(0, done / Math.max(1, total)));
  const filled = Math.round(fraction * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.floor(fraction * 100)}%`;
}
