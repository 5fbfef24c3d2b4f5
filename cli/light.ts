// `pstore status` as one CommonJS file (dist/cli/light.cjs, required by the `pstore` command,
// bin.cjs, for a command line that names `status`): a light command reads a few state files, so
// what it costs is mostly Node's start and the code it loads, and Node's ES module loader alone
// costs a process ~8 ms to start (SPEC.md §Start-up cost). Same dispatch, options, output and exit
// codes as main.ts (run-cli.ts). A command line whose command is not `status` after all (`status`
// was an option's value or an operand) goes on to main.ts.

import { splitCommand } from './command.js';
import { status } from './commands/status.js';
import { startCli } from './run-cli.js';

if (splitCommand(process.argv.slice(2)).name === 'status')
  startCli({ commands: { status: async () => status }, aliases: {} });
else void import('./main.js');
