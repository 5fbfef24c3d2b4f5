#!/bin/sh
":" //; if [ -n "$NODE_EXTRA_CA_CERTS" ]; then export PSTORE_DEFERRED_CA_CERTS="$NODE_EXTRA_CA_CERTS"; unset NODE_EXTRA_CA_CERTS; else unset PSTORE_DEFERRED_CA_CERTS; fi
":" //; exec node -- "$0" "$@"
// The `pstore` command (package.json "bin"; copied to dist/cli/pstore.cjs by the build), a file
// that is both a shell script and CommonJS (SPEC.md §Start-up cost). Run as a program, the two
// lines above (a string and a comment to JavaScript) hand NODE_EXTRA_CA_CERTS over as
// PSTORE_DEFERRED_CA_CERTS and start Node on this same file: Node 20 parses that file, with its
// own root certificates, at every start (~80 ms of CPU for a system bundle of 144), and pstore
// needs certificates only for an OCI remote over HTTPS (lib/transfer/oci/deferred-ca.ts). Run as
// `node pstore.cjs`, Node reads the file as JavaScript and nothing is handed over. A deferred
// file left in the environment by an outer pstore is dropped when the variable is unset here.
//
// `pstore --version` is answered here; a command line naming `status` goes to a bundle of that
// command alone (light.cjs), one naming `sync` to one of its own (sync.cjs, which answers a sync
// with nothing to do and hands any other on), one naming a writer another process may serve to
// the bundle of those (ask.cjs, which hands it on if not served), and every other one to the
// bundle of every command (cli.cjs), each loaded with its V8 code cache (code-cache.cjs).
'use strict';

const deferred = process.env.PSTORE_DEFERRED_CA_CERTS;
// The programs pstore runs (dpkg-deb, python3, sh) see the environment the user gave it.
if (deferred !== undefined) process.env.NODE_EXTRA_CA_CERTS = deferred;
const args = process.argv.slice(2);
if (args.length === 1 && args[0] === '--version')
  process.stdout.write(`${require('../../package.json').version}\n`);
else {
  const { loadBundle } = require('./code-cache.cjs');
  const cli = () => loadBundle('cli').exports;
  // A quick look before any bundle is read; each bundle's start… decides from the parsed line
  // (cli/aliases.ts: the writers and their aliases; one missing here only runs from cli.cjs).
  const writers = ['activate', 'deactivate', 'install', 'remove', 'uninstall'];
  const started =
    (args.includes('status') && loadBundle('light').exports.startIfStatus()) ||
    (args.includes('sync') && loadBundle('sync').exports.startIfSync(cli)) ||
    (args.some((a) => writers.includes(a)) && loadBundle('ask').exports.startIfWriter(cli));
  if (!started) cli().main();
}
