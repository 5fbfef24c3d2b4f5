// `npm run lint`: Prettier, ESLint, the one type check (tsconfig.lint.json), the layer rule
// (dependency-cruiser) and typedoc's validation of the public API. Each step is single-threaded, so
// they run side by side, as many at once as there are cores, longest first; each step's output is
// printed whole when it ends, and the run fails if any step fails.
//
// typedoc runs with --skipErrorChecking: its own type check of lib/ would repeat the type check
// step's (tsconfig.lint.json extends tsconfig.json and includes lib/); its validation (every export
// documented, no broken links, warnings are errors) still runs.

import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);

/**
 * What prettier checks: every top-level entry but the directories .prettierignore names (and .git).
 * `prettier --check .` walks ignored directories before it drops their files, and .bench-work holds
 * generated trees of 100k files (tens of GB after a full bench): that walk alone took a minute.
 * Untracked files are checked too (an unformatted new file must fail here, as it will in CI).
 */
function prettierTargets() {
  const ignored = new Set(
    readFileSync(path.join(root, '.prettierignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim().replace(/\/$/, ''))
      .filter((l) => l && !l.startsWith('#')),
  );
  return readdirSync(root, { withFileTypes: true })
    .filter((e) => e.name !== '.git' && !(e.isDirectory() && ignored.has(e.name)))
    .map((e) => e.name);
}

/** [label, executable, arguments], longest first (so the last to start is a short one). */
const STEPS = [
  ['tsc', bin('tsc'), ['-p', 'tsconfig.lint.json']],
  ['eslint', bin('eslint'), ['.']],
  ['prettier', bin('prettier'), ['--check', '--ignore-unknown', ...prettierTargets()]],
  ['typedoc', bin('typedoc'), ['--emit', 'none', '--skipErrorChecking']],
  ['layers', bin('depcruise'), ['lib', 'cli', '--config', '.dependency-cruiser.cjs']],
];

/** Run one step to completion: its exit code and everything it printed, in order. */
function run([label, file, args]) {
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    child.stdout.on('data', (c) => out.push(c));
    child.stderr.on('data', (c) => out.push(c));
    child.on('error', (e) => resolve({ label, code: 1, output: `${e.message}\n` }));
    child.on('close', (code, signal) =>
      resolve({ label, code: code ?? 1, signal, output: Buffer.concat(out).toString('utf8') }),
    );
  });
}

/** Print a finished step: a header naming it and how it ended, then its output. */
function report({ label, code, signal, output }) {
  const how = code === 0 ? 'ok' : signal ? `killed by ${signal}` : `failed (exit ${code})`;
  process.stdout.write(`> lint: ${label}: ${how}\n${output}`);
}

const queue = [...STEPS];
const failed = [];
async function lane() {
  for (let step = queue.shift(); step; step = queue.shift()) {
    const result = await run(step);
    report(result);
    if (result.code !== 0) failed.push(result.label);
  }
}

const lanes = Math.max(1, Math.min(availableParallelism(), STEPS.length));
await Promise.all(Array.from({ length: lanes }, lane));
// The verdict last, on stdout with the steps (where a log's tail is read) and on stderr.
if (failed.length) {
  const verdict = `lint failed: ${failed.join(', ')} (output above, under each step's header)\n`;
  process.stdout.write(`> ${verdict}`);
  process.stderr.write(verdict);
  process.exitCode = 1;
} else process.stdout.write(`> lint: all ${STEPS.length} steps ok\n`);
