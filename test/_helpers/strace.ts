// Seeing what a real pstore process asks of the kernel: strace, where it is present and allowed to
// trace (a container without ptrace rights refuses it; tests that need it skip there).

import { execFileSync, spawnSync } from 'node:child_process';
import { CLI, assertBuilt } from './cli.js';

/** strace present and allowed to trace */
export const HAS_STRACE =
  spawnSync('strace', ['-f', '-qq', '-e', 'trace=none', 'true']).status === 0;

/** Run `pstore ARGS` (the built CLI) under `strace -f -y`, tracing `calls`, its log in `log`. */
export function straceCli(
  log: string,
  calls: string,
  args: readonly string[],
  env: Record<string, string> = {},
): void {
  assertBuilt();
  execFileSync('strace', ['-f', '-y', '-e', `trace=${calls}`, '-o', log, 'node', CLI, ...args], {
    env: { ...process.env, ...env },
  });
}
