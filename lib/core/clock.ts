// Milliseconds on a monotonic clock, for durations (a transaction's steps, a wait for a lock's
// holder). process.hrtime, not performance.now(): the global `performance` loads Node's perf_hooks
// modules on first use, ~1.4 ms of a process's start here (SPEC.md §Start-up cost), and pstore
// only ever subtracts two readings.

/** Now, in milliseconds since an arbitrary point (only differences mean anything). */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
