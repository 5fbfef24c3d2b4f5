// pstore's CLI, every command: bundled by scripts/bundle-cli.mjs into one CommonJS file,
// dist/cli/cli.cjs, that the `pstore` command (bin.cjs) loads with its V8 code cache
// (code-cache.cjs) and starts with main(). No statement runs at load: the build's training run
// loads the same file and runs commands with runCli (scripts/train-code-cache.cjs).

import { ALIASES, COMMANDS } from './registry.js';
import { startCli, type CommandTable } from './run-cli.js';

export { runCli } from './run-cli.js';

/** Every command, and the library they load. */
export const TABLE: CommandTable = {
  commands: COMMANDS,
  aliases: ALIASES,
  library: () => import('./open-store.js'),
};

/** Run this process's command line. */
export function main(): void {
  startCli(TABLE);
}
