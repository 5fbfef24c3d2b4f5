#!/usr/bin/env node
// The `pstore` command (package.json "bin"; copied to dist/cli/pstore.cjs by the build). CommonJS:
// Node's ES module loader costs a process ~8 ms to start on its own (more than a third of
// `node -e 0` here), so `pstore --version` is answered before it is needed (SPEC.md §Start-up
// cost); every other command goes on to the bundled CLI, an ES module (dist/cli/main.js).
'use strict';

const args = process.argv.slice(2);
if (args.length === 1 && args[0] === '--version')
  process.stdout.write(`${require('../../package.json').version}\n`);
else import('./main.js');
