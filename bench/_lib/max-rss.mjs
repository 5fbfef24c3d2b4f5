// Preload (node --import) for benchmark children: at exit, write the process's peak resident set
// size in KiB (process.resourceUsage().maxRSS) to $BENCH_MAXRSS_FILE. Plain JS on purpose: no
// loader may run inside the measured process, so it uses exactly the memory `pstore` uses.
import { writeFileSync } from 'node:fs';

const out = process.env.BENCH_MAXRSS_FILE;
if (out) {
  delete process.env.BENCH_MAXRSS_FILE;
  process.on('exit', () => writeFileSync(out, `${process.resourceUsage().maxRSS}\n`));
}
