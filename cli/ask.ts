// `pstore activate` and `deactivate` as a waiting writer runs them (dist/cli/ask.cjs, loaded with
// its code cache by the `pstore` command, bin.cjs): the same dispatch, options, output and exit
// codes as main.ts (run-cli.ts), with these two commands alone and no library. A writer that the
// prefix's writer of the moment serves (SPEC.md §Group commit) needs nothing else: sixteen writers
// started at once are fifteen such, and each reads 36 KB of code instead of the whole CLI's 750 KB
// (SPEC.md §Start-up cost). One that is not served hands its command line over to the CLI's
// bundle (`cli`, loaded then), which runs the transaction without asking again.

import { ALIASES, SERVED_COMMANDS } from './aliases.js';
import { splitCommand } from './command.js';
import { activate } from './commands/activate.js';
import { deactivate } from './commands/deactivate.js';
import { handOver, type CliEntry } from './hand-over.js';
import { startCli, type CommandTable } from './run-cli.js';

export { runCli } from './run-cli.js';

/** The two writers, their aliases, and where a command line goes that was not served. */
export function askTable(cli: CliEntry): CommandTable {
  return {
    commands: { activate: async () => activate, deactivate: async () => deactivate },
    aliases: Object.fromEntries(
      Object.entries(ALIASES).filter(([, name]) => SERVED_COMMANDS.includes(name)),
    ),
    notServed: handOver(cli),
  };
}

/**
 * Run this process's command line if its command is `activate` or `deactivate` (or an alias):
 * false, and nothing done, if such a name was an option's value or an operand.
 */
export function startIfWriter(cli: CliEntry): boolean {
  const { name } = splitCommand(process.argv.slice(2));
  if (name === undefined || !SERVED_COMMANDS.includes(ALIASES[name] ?? name)) return false;
  startCli(askTable(cli));
  return true;
}
