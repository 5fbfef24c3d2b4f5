#!/usr/bin/env node
// The `pstore` command (package.json "bin"; copied to dist/cli/pstore.cjs by the build). CommonJS,
// as everything it loads (SPEC.md §Start-up cost): `pstore --version` is answered here; a command
// line naming `status` goes to a bundle of that command alone (light.cjs), and every other one to
// the bundle of every command (cli.cjs), each loaded with its V8 code cache (code-cache.cjs).
'use strict';

const args = process.argv.slice(2);
if (args.length === 1 && args[0] === '--version')
  process.stdout.write(`${require('../../package.json').version}\n`);
else {
  const { loadBundle } = require('./code-cache.cjs');
  if (!(args.includes('status') && loadBundle('light').exports.startIfStatus()))
    loadBundle('cli').exports.main();
}
