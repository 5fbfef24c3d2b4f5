// A mistyped store is an error, never an empty answer (issue 10): every command that only reads the
// store exits 6 with EPSTORE_NOT_FOUND "no store at DIR" naming the store, and creates nothing.

import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { describe, runCli } from '../_helpers/cli.js';
import { tempDir } from '../_helpers/tmp.js';

interface ErrorJson {
  error: { code: string; message: string; subject?: string; hint?: string };
}

const READING_COMMANDS: string[][] = [
  ['ls'],
  ['info', 'pkg'],
  ['info', 'pkg@1', '--paths'],
  ['verify'],
  ['gc'],
  ['gc', '--dry-run'],
  ['export', 'pkg', '-o', 'out.pstore'],
  ['du'],
  ['stats'],
  ['owner', '/usr/bin/python3'],
];

for (const args of READING_COMMANDS) {
  test(`${args.join(' ')} on a store that does not exist: exit 6, "no store at DIR", nothing created`, async (t) => {
    const dir = await tempDir(t, 'nostore');
    const store = path.join(dir, 'mistyped-store');
    const human = await runCli(['--store', store, ...args], { cwd: dir });
    t.is(human.code, 6, describe(human));
    t.is(human.stdout, '', describe(human));
    t.is(
      human.stderr,
      `pstore: EPSTORE_NOT_FOUND: no store at ${store} (check --store or $PSTORE_STORE; pstore add creates a store)\n`,
    );

    const json = await runCli(['--store', store, ...args, '--json'], { cwd: dir });
    t.is(json.code, 6, describe(json));
    const err = JSON.parse(json.stderr) as ErrorJson;
    t.is(err.error.code, 'EPSTORE_NOT_FOUND');
    t.is(err.error.subject, store);

    t.false(existsSync(store), 'no store was created');
    t.deepEqual(await fsp.readdir(dir), [], 'nothing was written beside it');
  });
}

test('verify of an existing empty store is still ok (an empty store is not a missing one)', async (t) => {
  const dir = await tempDir(t, 'emptystore');
  const store = path.join(dir, 'store');
  await fsp.mkdir(store);
  const r = await runCli(['--store', store, 'verify']);
  t.is(r.code, 0, describe(r));
  t.regex(r.stdout, /^ok: 0 entries/);
});

test('the store from $PSTORE_STORE is named when it is missing', async (t) => {
  const dir = await tempDir(t, 'envstore');
  const store = path.join(dir, 'typo');
  const r = await runCli(['verify'], { env: { PSTORE_STORE: store } });
  t.is(r.code, 6, describe(r));
  t.true(r.stderr.includes(`no store at ${store}`), r.stderr);
});
