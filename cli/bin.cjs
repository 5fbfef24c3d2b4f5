#!/usr/bin/env node
// The `pstore` command (package.json "bin"; copied to dist/cli/pstore.cjs by the build). CommonJS:
// Node's ES module loader costs a process ~8 ms to start on its own (more than a third of
// `node -e 0` here), so `pstore --version` is answered here and a command line naming `status` goes
// to a CommonJS bundle of that command (light.cjs, which hands any other command on to main.js),
// before that loader is needed (SPEC.md §Start-up cost); every other command goes on to the
// bundled CLI, an ES module (dist/cli/main.js).
'use strict';

const args = process.argv.slice(2);
if (args.length === 1 && args[0] === '--version')
  process.stdout.write(`${require('../../package.json').version}\n`);
else if (args.includes('status')) require('./light.cjs');
else import('./main.js');
