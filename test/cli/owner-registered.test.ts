// `owner PATH...` without --prefix (issue 10): an absolute path (or one relative to the working
// directory) is looked up in the prefix registered with the store that contains it, as dpkg -S
// needs no --root; a path in no registered prefix is exit 6. Fast on a 100k-file prefix: one pass
// over the active manifests, compared with the expectations `dpkg -S` would give.

import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { describe, jsonOut, storeCli } from '../_helpers/cli.js';
import { activateBigPackage, BIG_FILES, BIG_LAST } from '../_helpers/store.js';
import { buildTree, symlink } from '../_helpers/tree.js';
import { tempDir } from '../_helpers/tmp.js';

interface Owned {
  path: string;
  relative: string | null;
  prefix: string | null;
  owners: Array<{ name: string; version: string }>;
}

async function setup(t: ExecutionContext, tag: string) {
  const dir = await tempDir(t, tag);
  const cli = storeCli(path.join(dir, 'store'));
  const ok = async (args: string[], timeoutMs = 60_000) => {
    const r = await cli(args, { timeoutMs });
    t.is(r.code, 0, describe(r));
    return r;
  };
  return { dir, cli, ok };
}

test('owner without --prefix: each path answered by the registered prefix that contains it', async (t) => {
  const { dir, cli, ok } = await setup(t, 'owner-reg');
  const a = await buildTree(path.join(dir, 'a'), { 'bin/a': 'a\n', 'lib/liba.so': symlink('x') });
  const b = await buildTree(path.join(dir, 'b'), { 'bin/b': 'b\n' });
  await ok(['add', a, '--name', 'a', '--version', '1']);
  await ok(['add', b, '--name', 'b', '--version', '2']);
  const inplace = path.join(dir, 'usr-local');
  const gens = path.join(dir, 'venv');
  await ok(['activate', 'a', '--prefix', inplace]);
  await ok(['activate', 'b', '--prefix', gens, '--layout', 'generations']);

  const asked = [`${inplace}/bin/a`, `${gens}/bin/b`, `${inplace}/lib/liba.so`, `${inplace}/bin`];
  const r = await ok(['owner', ...asked]);
  t.is(
    r.stdout,
    `a@1: ${inplace}/bin/a\nb@2: ${gens}/bin/b\na@1: ${inplace}/lib/liba.so\na@1: ${inplace}/bin\n`,
  );
  const json = jsonOut<Owned[]>(await ok(['owner', ...asked, '--json']));
  t.deepEqual(
    json.map((o) => [o.prefix, o.relative, o.owners.map((p) => p.name)]),
    [
      [inplace, 'bin/a', ['a']],
      [gens, 'bin/b', ['b']],
      [inplace, 'lib/liba.so', ['a']],
      [inplace, 'bin', ['a']],
    ],
  );

  // relative to the working directory, as pacman -Qo takes them
  const rel = await cli(['owner', 'bin/a'], { cwd: inplace });
  t.is(rel.code, 0, describe(rel));
  t.is(rel.stdout, 'a@1: bin/a\n');

  // unowned, and outside every registered prefix: exit 6 each, the owned still printed
  const mixed = await cli(['owner', `${inplace}/bin/a`, `${inplace}/bin/nobody`, '/etc/passwd']);
  t.is(mixed.code, 6, describe(mixed));
  t.is(mixed.stdout, `a@1: ${inplace}/bin/a\n`);
  t.regex(mixed.stderr, /EPSTORE_NOT_FOUND: no active package owns .*\/bin\/nobody\n/);
  t.regex(
    mixed.stderr,
    /EPSTORE_NOT_FOUND: \/etc\/passwd is not inside any prefix registered with the store /,
  );
  const outside = jsonOut<Owned[]>(await cli(['owner', '/etc/passwd', '--json']));
  t.deepEqual(outside, [{ path: '/etc/passwd', relative: null, prefix: null, owners: [] }]);
});

test(`owner without --prefix on a ${BIG_FILES}-file prefix, beside dpkg -S expectations`, async (t) => {
  t.timeout(10 * 60_000); // adding and activating the big package (100k files in torture mode) on a loaded machine; the query is logged, not asserted
  const { dir, cli } = await setup(t, 'owner-reg-big');
  const prefix = path.join(dir, 'p');
  await activateBigPackage(t, cli, prefix);
  // dpkg -S: a file and a directory of the package are owned, a path it does not ship is not
  const expected: Record<string, string | undefined> = {
    [`${prefix}/d0/f0`]: 'big@1',
    [`${prefix}/${BIG_LAST}`]: 'big@1',
    [`${prefix}/d100`]: 'big@1',
    [`${prefix}/d3/missing`]: undefined,
  };
  const started = Date.now();
  const r = await cli(['owner', ...Object.keys(expected), '--json'], { timeoutMs: 120_000 });
  t.log(
    `owner of 4 paths on a ${BIG_FILES}-file prefix, no --prefix: ${Date.now() - started} ms (process start included)`,
  );
  t.is(r.code, 6, describe(r));
  t.deepEqual(
    Object.fromEntries(
      jsonOut<Owned[]>(r).map((o) => [o.path, o.owners.map((p) => `${p.name}@${p.version}`)[0]]),
    ),
    expected,
  );
});
