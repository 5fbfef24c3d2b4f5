// Preload (node --import) for benchmark children: at exit, write the process's peak resident set
// size in KiB to $BENCH_MAXRSS_FILE: VmHWM from /proc/self/status, which covers this process's own
// address space only. (getrusage's maxRSS, process.resourceUsage().maxRSS, does not: Linux carries
// the high-water mark of the pre-exec address space, a copy of the parent's, across exec, so a
// child of a 250 MiB bench runner reports at least ~250 MiB. It is the fallback off Linux.)
// With $BENCH_MEMTRACE_FILE set, also sample process.memoryUsage() every 50 ms and write the
// samples there as JSON, to see when and where (V8 heap or Buffers) memory peaks. Plain JS on
// purpose: no loader runs inside the measured process, so it uses exactly the memory `pstore` uses.
import { readFileSync, writeFileSync } from 'node:fs';

const rssFile = process.env.BENCH_MAXRSS_FILE;
const traceFile = process.env.BENCH_MEMTRACE_FILE;
delete process.env.BENCH_MAXRSS_FILE;
delete process.env.BENCH_MEMTRACE_FILE;

const samples = [];
const t0 = performance.now();
if (traceFile) {
  const sample = () => {
    const m = process.memoryUsage();
    samples.push([
      Math.round(performance.now() - t0),
      m.rss,
      m.heapTotal,
      m.heapUsed,
      m.external,
      m.arrayBuffers,
    ]);
  };
  sample();
  setInterval(sample, 50).unref();
}

function peakRssKiB() {
  try {
    const m = /^VmHWM:\s*(\d+)\s*kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    /* not Linux */
  }
  return process.resourceUsage().maxRSS;
}

process.on('exit', () => {
  if (rssFile) writeFileSync(rssFile, `${peakRssKiB()}\n`);
  if (traceFile) {
    writeFileSync(
      traceFile,
      JSON.stringify({
        fields: ['ms', 'rss', 'heapTotal', 'heapUsed', 'external', 'arrayBuffers'],
        samples,
      }),
    );
  }
});
