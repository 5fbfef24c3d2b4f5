#!/usr/bin/env node
// pstore's CLI, every command (dist/cli/main.js, an ES module bundle with a chunk per dynamic
// import): what the `pstore` command (bin.cjs) imports for everything but --version and `status`.

import { ALIASES, COMMANDS } from './registry.js';
import { startCli } from './run-cli.js';

startCli({ commands: COMMANDS, aliases: ALIASES, library: () => import('./open-store.js') });
