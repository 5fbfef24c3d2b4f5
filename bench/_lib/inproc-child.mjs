// Child process for in-process timings (see inproc.ts): imports the built library (dist/lib/index.js)
// once, so neither node's startup nor the first import is in the figures, does one untimed warm-up
// round, then times the library calls with performance.now() and prints the result as JSON on
// stdout. Plain JS on purpose, like max-rss.mjs: no TypeScript loader runs in the measured process.
//
//   node inproc-child.mjs SPEC_JSON
//   SPEC: {lib, store, prefix, op: 'rollback', gens: [A, B], runs, cpuProfile?}
//         {lib, store, prefix, op: 'status', runs, cpuProfile?}
//
// rollback: warm-up = rollback to A, then to B; timed = `runs` rollbacks alternating A, B, A, ...;
// then (untimed) back to B if needed. Each must land on the generation asked for, coming from the
// other one. With cpuProfile set, the
// timed calls (only those) are profiled with the inspector and the profile is written there.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { pathToFileURL } from 'node:url';

const spec = JSON.parse(process.argv[2]);
const t0 = performance.now();
const { openStore } = await import(pathToFileURL(spec.lib).href);
const importMs = performance.now() - t0;

const store = openStore({ path: spec.store });
const prefix = store.prefix(spec.prefix);
const problems = [];

async function rollbackTo(to) {
  const r = await prefix.rollback({ to });
  if (r.generation !== to || r.previousGeneration === to || r.noop) {
    problems.push(
      `rollback to ${to} gave generation ${r.generation} (from ${r.previousGeneration}, noop ${r.noop})`,
    );
  }
  return r;
}

let call;
if (spec.op === 'rollback') {
  const [a, b] = spec.gens;
  await rollbackTo(a);
  await rollbackTo(b);
  let i = 0;
  call = () => rollbackTo(i++ % 2 === 0 ? a : b);
} else if (spec.op === 'status') {
  const first = await prefix.status();
  call = async () => {
    const s = await prefix.status();
    if (s.generation !== first.generation || s.packages.length !== first.packages.length)
      problems.push('status changed between calls');
  };
} else {
  throw new Error(`unknown op ${spec.op}`);
}

let session;
if (spec.cpuProfile) {
  session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
}
const runsMs = [];
for (let k = 0; k < spec.runs; k++) {
  const s = performance.now();
  await call();
  runsMs.push(performance.now() - s);
}
if (session) {
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(spec.cpuProfile, JSON.stringify(profile));
  session.disconnect();
}
// Leave a rollback prefix where it was before the warm-up (at B), so callers know its state.
if (spec.op === 'rollback' && spec.runs % 2 === 1) await rollbackTo(spec.gens[1]);
const final = await prefix.status();
process.stdout.write(
  `${JSON.stringify({ importMs, runsMs, problems, generation: final.generation })}\n`,
);
process.exit(0);
