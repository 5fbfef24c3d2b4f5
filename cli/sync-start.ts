// `pstore sync` as it starts (dist/cli/sync.cjs, loaded with its code cache by the `pstore`
// command, bin.cjs, for a command line that names `sync`): a prefix that holds the lockfile
// already is answered from a few state files (SPEC.md §Sync without the lock), so what that costs
// is mostly Node's start and the code it loads, as for `status`; any other sync is handed over to
// the CLI's bundle (hand-over.ts). Same dispatch, options, output and exit codes as main.ts.

import { splitCommand } from './command.js';
import { sync } from './commands/sync.js';
import { handOver, type CliEntry } from './hand-over.js';
import { startCli, type CommandTable } from './run-cli.js';

export { runCli } from './run-cli.js';

/** `sync` alone; a command line it does not answer goes to `cli`'s table. */
export function syncTable(cli: CliEntry): CommandTable {
  return { commands: { sync: async () => sync }, aliases: {}, notServed: handOver(cli) };
}

/** Run this process's command line if its command is `sync`: false, and nothing done, if not. */
export function startIfSync(cli: CliEntry): boolean {
  if (splitCommand(process.argv.slice(2)).name !== 'sync') return false;
  startCli(syncTable(cli));
  return true;
}
