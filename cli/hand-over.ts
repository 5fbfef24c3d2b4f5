// A command line the small bundles (ask.cjs, sync.cjs) did not answer themselves goes to the
// bundle of every command (dist/cli/cli.cjs), loaded only then, which runs it without trying their
// shortcut again (run-cli.ts, `asked`) and waits only what is left of --wait.

import type { CommandTable } from './run-cli.js';

/** The entry of every command (main.ts's exports), loaded only when it is needed. */
export type CliEntry = () => { runCli: typeof import('./run-cli.js').runCli; TABLE: CommandTable };

/** A table's `notServed`: hand the command line over to `cli`'s table. */
export function handOver(cli: CliEntry): NonNullable<CommandTable['notServed']> {
  return (argv, waitLeft) => {
    const entry = cli();
    return entry.runCli(argv, { ...entry.TABLE, asked: { waitLeft } });
  };
}
