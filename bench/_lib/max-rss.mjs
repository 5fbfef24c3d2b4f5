// Preload (node --import) for benchmark children: at exit, write the process's peak resident set
// size in KiB (process.resourceUsage().maxRSS) to $BENCH_MAXRSS_FILE. With $BENCH_MEMTRACE_FILE set,
// also sample process.memoryUsage() every 50 ms and write the samples there as JSON, to see when
// and where (V8 heap or Buffers) memory peaks. Plain JS on purpose: no loader runs inside the
// measured process, so it uses exactly the memory `pstore` uses.
import { writeFileSync } from 'node:fs';

const rssFile = process.env.BENCH_MAXRSS_FILE;
const traceFile = process.env.BENCH_MEMTRACE_FILE;
delete process.env.BENCH_MAXRSS_FILE;
delete process.env.BENCH_MEMTRACE_FILE;

const samples = [];
const t0 = performance.now();
if (traceFile) {
  const sample = () => {
    const m = process.memoryUsage();
    samples.push([Math.round(performance.now() - t0), m.rss, m.heapTotal, m.heapUsed, m.external, m.arrayBuffers]);
  };
  sample();
  setInterval(sample, 50).unref();
}

process.on('exit', () => {
  if (rssFile) writeFileSync(rssFile, `${process.resourceUsage().maxRSS}\n`);
  if (traceFile) {
    writeFileSync(traceFile, JSON.stringify({ fields: ['ms', 'rss', 'heapTotal', 'heapUsed', 'external', 'arrayBuffers'], samples }));
  }
});
