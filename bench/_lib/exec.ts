// Run a command and time it from spawn to exit, as a user's shell would see it. Output is collected
// (and discarded by callers that do not need it); a non-zero exit is an error, so a broken peer
// command never shows up as a fast one.

import { spawn } from 'node:child_process';

export interface RunResult {
  ms: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** keep stdout (default false: it is drained and dropped, like > /dev/null) */
  captureStdout?: boolean;
}

export function run(
  cmd: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', opts.captureStdout ? 'pipe' : 'ignore', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    child.stderr!.setEncoding('utf8').on('data', (c: string) => {
      if (stderr.length < 64 * 1024) stderr += c;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code === 0) resolve({ ms, stdout, stderr });
      else
        reject(
          new Error(
            `${[cmd, ...args].join(' ')} failed (${signal ?? `exit ${code}`}): ${stderr.trim().slice(0, 2000)}`,
          ),
        );
    });
  });
}

/** A shell pipeline, for peers such as `find | xargs sha512sum`. Arguments go in as $1, $2... */
export function sh(
  script: string,
  args: readonly string[] = [],
  opts: RunOptions = {},
): Promise<RunResult> {
  return run('bash', ['-c', `set -euo pipefail; ${script}`, 'bench', ...args], opts);
}

/** Is `cmd` on PATH? */
export async function have(cmd: string): Promise<boolean> {
  try {
    await sh('command -v "$1" >/dev/null', [cmd]);
    return true;
  } catch {
    return false;
  }
}
