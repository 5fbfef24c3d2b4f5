// `generations` and `status` as tables (issue 10): columns line up, counts read "1 package", each
// generation shows the command that made it (an optional field: older records stay valid), and a
// rollback at the oldest generation hints at --to.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { openStore } from '../../lib/index.js';
import { describe, jsonOut } from '../_helpers/cli.js';
import { serialAdd } from '../_helpers/prefix-fixtures.js';
import { buildTree } from '../_helpers/tree.js';
import { storeWorkspace } from '../_helpers/store.js';
import type { GenJson } from '../_helpers/json.js';

async function setup(t: import('ava').ExecutionContext) {
  const { dir, store, prefix, cli, ok } = await storeWorkspace(t, 'gens');
  // the adds through the library: the prefix commands are what this file spawns
  const opened = openStore({ path: store });
  for (const [name, version] of [
    ['a', '1'],
    ['long-package-name', '10.0.1'],
  ] as const) {
    const src = await buildTree(path.join(dir, `src-${name}`), { [`bin/${name}`]: `${name}\n` });
    await serialAdd(() => opened.add(src, { name, version }));
  }
  return { dir, store, prefix, cli, ok };
}

/** Every line has its columns (split at two or more spaces) starting at the same offsets. */
function columnStarts(line: string): number[] {
  return [...line.matchAll(/(?:^|\s{2,})(\S)/g)].map((m) => m.index + m[0].length - 1);
}

test('generations: aligned columns, "1 package", the command that made each generation', async (t) => {
  const { prefix, ok, store } = await setup(t);
  await ok(['activate', 'a@1', '--prefix', prefix, '--json']);
  await ok(['--store', store, 'activate', 'long-package-name', '--prefix', prefix, '--quiet']);
  await ok(['deactivate', 'a', '--prefix', prefix, '--wait', '30']);

  const gens = jsonOut<GenJson[]>(await ok(['generations', '--prefix', prefix, '--json']));
  t.deepEqual(
    gens.map((g) => g.command),
    [
      `pstore activate a@1 --prefix ${prefix}`,
      `pstore activate long-package-name --prefix ${prefix}`,
      `pstore deactivate a --prefix ${prefix}`,
    ],
    'the command line, without --store, --json, --quiet and --wait',
  );

  const lines = (await ok(['generations', '--prefix', prefix])).stdout.trimEnd().split('\n');
  t.is(lines.length, 3);
  t.regex(lines[0]!, /^ {3}1 {2}\S+Z {2}1 package {3}pstore activate a@1 /);
  t.regex(lines[1]!, /^ {3}2 {2}\S+Z {2}2 packages {2}pstore activate long-package-name /);
  t.regex(lines[2]!, /^\* {2}3 {2}\S+Z {2}1 package {3}pstore deactivate a /);
  t.deepEqual(
    lines.map((l) => columnStarts(l.replace(/^\*/, ' ')).slice(1)),
    lines.map(() => columnStarts(lines[0]!).slice(1)),
    'columns line up',
  );
});

test('a generation record without a command (written before it was kept) is still valid', async (t) => {
  const { prefix, ok } = await setup(t);
  await ok(['activate', 'a@1', 'long-package-name', '--prefix', prefix]);
  const record = path.join(prefix, '.pstore', 'generations', '1.json');
  const parsed = JSON.parse(await fsp.readFile(record, 'utf8')) as Record<string, unknown>;
  t.is(typeof parsed.command, 'string', 'the record keeps the command');
  delete parsed.command;
  await fsp.chmod(record, 0o644);
  await fsp.writeFile(record, JSON.stringify(parsed));

  const gens = jsonOut<GenJson[]>(await ok(['generations', '--prefix', prefix, '--json']));
  t.false('command' in gens[0]!);
  const human = (await ok(['generations', '--prefix', prefix])).stdout;
  t.regex(
    human,
    /^\* {2}1 {2}\S+Z {2}2 packages {2}a@1 long-package-name@10\.0\.1\n$/,
    'its packages instead',
  );
  await ok(['status', '--prefix', prefix]);
  await ok(['verify', '--prefix', prefix]);
});

test('status: a package count and an aligned table of name, version, id', async (t) => {
  const { prefix, ok } = await setup(t);
  await ok(['activate', 'a@1', '--prefix', prefix]);
  t.regex((await ok(['status', '--prefix', prefix])).stdout, /^packages: {3}1 package$/m);
  await ok(['activate', 'long-package-name', '--prefix', prefix]);
  const out = (await ok(['status', '--prefix', prefix])).stdout;
  t.regex(out, /^packages: {3}2 packages$/m);
  const rows = out.split('\n').filter((l) => l.startsWith('  '));
  t.is(rows.length, 2);
  t.regex(rows[0]!, /^ {2}a {18}1 {7}[0-9a-f]{12}$/);
  t.regex(rows[1]!, /^ {2}long-package-name {2}10\.0\.1 {2}[0-9a-f]{12}$/);
});

test('rollback at the oldest generation: exit 6, the hint names --to and the other generations', async (t) => {
  const { prefix, ok, cli } = await setup(t);
  await ok(['activate', 'a@1', '--prefix', prefix]);
  const alone = await cli(['rollback', '--prefix', prefix]);
  t.is(alone.code, 6, describe(alone));
  t.is(
    alone.stderr,
    `pstore: EPSTORE_NOT_FOUND: no generation before 1 in ${prefix} (it is the only generation; pstore rollback --to 0 returns to the prefix before generation 1)\n`,
  );
  await ok(['activate', 'long-package-name', '--prefix', prefix]);
  await ok(['rollback', '--prefix', prefix]);
  const before = await fsp.readFile(path.join(prefix, '.pstore', 'current.json'), 'utf8');
  const oldest = await cli(['rollback', '--prefix', prefix]);
  t.is(oldest.code, 6, describe(oldest));
  t.regex(
    oldest.stderr,
    /no generation before 1 .*\(other generations: 2; pstore rollback --to GEN/,
  );
  const json = await cli(['rollback', '--prefix', prefix, '--json']);
  const err = JSON.parse(json.stderr) as {
    error: { hint: string; data: { generations: number[] } };
  };
  t.deepEqual(err.error.data.generations, [2]);
  t.regex(err.error.hint, /--to/);
  t.is(
    await fsp.readFile(path.join(prefix, '.pstore', 'current.json'), 'utf8'),
    before,
    'nothing changed',
  );
  await ok(['rollback', '--prefix', prefix, '--to', '2']);
});
