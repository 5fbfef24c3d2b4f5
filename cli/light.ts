// `pstore status` as one CommonJS file (dist/cli/light.cjs, loaded with its code cache by the
// `pstore` command, bin.cjs, for a command line that names `status`; the build's training run
// loads it too and runs status with runCli): a light command reads a few state files, so
// what it costs is mostly Node's start and the code it loads, and the CLI's bundle (every command,
// main.ts) is many times larger (SPEC.md §Start-up cost). Same dispatch, options, output and exit
// codes as main.ts (run-cli.ts).

import { splitCommand } from './command.js';
import { status } from './commands/status.js';
import { startCli, type CommandTable } from './run-cli.js';

export { runCli } from './run-cli.js';

/** `status` alone, loaded with the library's light modules only (cli/run-cli.ts, `light`). */
export const TABLE: CommandTable = { commands: { status: async () => status }, aliases: {} };

/**
 * Run this process's command line if its command is `status`: false, and nothing done, if `status`
 * was an option's value or an operand (the CLI's bundle runs that command line).
 */
export function startIfStatus(): boolean {
  if (splitCommand(process.argv.slice(2)).name !== 'status') return false;
  startCli(TABLE);
  return true;
}
