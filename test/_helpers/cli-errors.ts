// Assertions on a refused CLI run, in both forms: the human line and the --json object. What they
// check is the contract (exit code, stable code, subject, nothing on stdout), never message text.

import type { ExecutionContext } from 'ava';
import { describe, type CliResult } from './cli.js';

/** The one line on stderr of a refused run (exit `exit`, nothing on stdout). */
function onlyErrorLine(t: ExecutionContext, r: CliResult, exit: number): string {
  t.is(r.code, exit, describe(r));
  t.is(r.stdout, '', `nothing on stdout: ${describe(r)}`);
  t.true(r.stderr.endsWith('\n'), `stderr ends its line: ${describe(r)}`);
  const lines = r.stderr.split('\n').filter(Boolean);
  t.is(lines.length, 1, `exactly one line on stderr: ${describe(r)}`);
  return lines[0] ?? '';
}

/** A human error: exit `exit`, one `pstore: CODE: ...` line on stderr naming `subject`. */
export function assertError(
  t: ExecutionContext,
  r: CliResult,
  exit: number,
  code: string,
  subject: string,
): void {
  const line = onlyErrorLine(t, r, exit);
  t.true(line.startsWith(`pstore: ${code}: `), describe(r));
  t.true(line.includes(subject), `stderr names ${JSON.stringify(subject)}: ${describe(r)}`);
}

/** A --json error: one JSON line on stderr, {"error": {code, message, subject}}. */
export function assertJsonError(
  t: ExecutionContext,
  r: CliResult,
  exit: number,
  code: string,
  subject?: string,
): void {
  const line = onlyErrorLine(t, r, exit);
  const { error } = JSON.parse(line) as {
    error: { code: string; message: string; subject?: string };
  };
  t.is(error.code, code, line);
  t.is(typeof error.message, 'string', line);
  t.true(error.message.length > 0, line);
  if (subject !== undefined) t.is(error.subject, subject, `subject of ${line}`);
}
