// Questions a prefix answers (issue 10): `owner` (as dpkg -S / pacman -Qo), `info --prefix` (the
// version active there, not the latest added), `diff` between generations, and `deactivate
// NAME@VERSION` of the active version. All through the CLI, on real prefixes.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { openStore } from '../../lib/index.js';
import { describe, jsonOut, storeCli } from '../_helpers/cli.js';
import { serialAdd } from '../_helpers/prefix-fixtures.js';
import { activateBigPackage, BIG_FILES, BIG_LAST } from '../_helpers/store.js';
import { buildTree, describeTree, symlink } from '../_helpers/tree.js';
import { tempDir } from '../_helpers/tmp.js';

interface Ref {
  name: string;
  version: string;
  id: string;
}
interface Owned {
  path: string;
  relative: string | null;
  owners: Ref[];
}

async function setup(t: ExecutionContext, tag: string) {
  const dir = await tempDir(t, tag);
  const cli = storeCli(path.join(dir, 'store'));
  // setup (adds, the activations queried) through the library: the queries are what this file spawns
  const store = openStore({ path: path.join(dir, 'store') });
  const add = async (
    name: string,
    version: string,
    spec: Parameters<typeof buildTree>[1],
  ): Promise<string> => {
    const src = await buildTree(
      path.join(dir, 'src', `${name}-${version}-${Math.random().toString(36).slice(2)}`),
      spec,
    );
    return (await serialAdd(() => store.add(src, { name, version }))).id;
  };
  const activate = async (prefix: string, refs: string[], layout?: 'inplace' | 'generations') => {
    await store.prefix(prefix, layout ? { layout } : {}).activate(refs);
  };
  const ok = async (args: string[], timeoutMs?: number) => {
    const r = await cli(args, timeoutMs === undefined ? {} : { timeoutMs });
    t.is(r.code, 0, describe(r));
    return r;
  };
  return { dir, cli, add, activate, ok };
}

const A1 = {
  'bin/a': 'a 1\n',
  'share/doc/a/README': 'a\n',
  'lib/liba.so': symlink('liba.so.1'),
  'lib/liba.so.1': 'lib a\n',
};
const B1 = { 'bin/b': 'b 1\n', 'share/doc/b/README': 'b\n' };

test('owner: the owning package of files, symlinks and shared directories, absolute or relative, in both layouts', async (t) => {
  const { dir, add, activate, ok } = await setup(t, 'owner');
  const a = await add('a', '1', A1);
  const b = await add('b', '1', B1);
  for (const layout of ['inplace', 'generations'] as const) {
    const prefix = path.join(dir, `p-${layout}`);
    await activate(prefix, ['a', 'b'], layout);
    const r = await ok([
      'owner',
      'bin/a',
      `${prefix}/bin/b`,
      'share/doc/',
      './lib/liba.so',
      `${prefix}/share/doc/a`,
      '--prefix',
      prefix,
    ]);
    t.is(
      r.stdout,
      [
        'a@1: bin/a',
        `b@1: ${prefix}/bin/b`,
        'a@1, b@1: share/doc/',
        'a@1: ./lib/liba.so',
        `a@1: ${prefix}/share/doc/a`,
        '',
      ].join('\n'),
      layout,
    );
    t.is(r.stderr, '');
    // The generations layout's DIR is a symlink to a tree: a path through the resolved tree is inside it too.
    const real = await fsp.realpath(prefix);
    const viaReal = await ok(['owner', `${real}/bin/b`, '--prefix', prefix, '--json']);
    t.deepEqual(
      jsonOut<Owned[]>(viaReal).map((o) => [o.relative, o.owners.map((p) => p.id)]),
      [['bin/b', [b]]],
    );
  }
  const prefix = path.join(dir, 'p-inplace');
  const json = jsonOut<Owned[]>(
    await ok(['owner', 'share', 'bin/a', '--prefix', prefix, '--json']),
  );
  t.deepEqual(json, [
    {
      path: 'share',
      relative: 'share',
      owners: [
        { name: 'a', version: '1', id: a },
        { name: 'b', version: '1', id: b },
      ],
    },
    { path: 'bin/a', relative: 'bin/a', owners: [{ name: 'a', version: '1', id: a }] },
  ]);
  t.is((await ok(['owner', 'bin/a', '--prefix', prefix, '--quiet'])).stdout, '');
});

test('owner: an unowned path or one outside the prefix exits 6, the owned ones are still printed', async (t) => {
  const { dir, cli, add, activate, ok } = await setup(t, 'unowned');
  await add('a', '1', A1);
  const prefix = path.join(dir, 'p');
  await activate(prefix, ['a']);
  // A file that is in the prefix but no package's: what a user or a postinst put there.
  await fsp.writeFile(path.join(prefix, 'bin', 'local'), 'mine\n');
  const r = await cli([
    'owner',
    'bin/a',
    'bin/local',
    '/etc/passwd',
    'bin/nothere',
    '--prefix',
    prefix,
  ]);
  t.is(r.code, 6, describe(r));
  t.is(r.stdout, 'a@1: bin/a\n');
  t.regex(r.stderr, /EPSTORE_NOT_FOUND: no active package owns bin\/local\n/);
  t.regex(r.stderr, /EPSTORE_NOT_FOUND: \/etc\/passwd is not inside the prefix /);
  t.regex(r.stderr, /no active package owns bin\/nothere\n/);
  const j = await cli(['owner', 'bin/local', 'bin/a', '--prefix', prefix, '--json']);
  t.is(j.code, 6, describe(j));
  t.deepEqual(
    jsonOut<Owned[]>(j).map((o) => [o.relative, o.owners.length]),
    [
      ['bin/local', 0],
      ['bin/a', 1],
    ],
  );
  t.is(JSON.parse(j.stderr.trim()).error.code, 'EPSTORE_NOT_FOUND');
  // A deactivated package owns nothing any more.
  await ok(['deactivate', 'a', '--prefix', prefix, '--quiet']);
  t.is((await cli(['owner', 'bin/a', '--prefix', prefix])).code, 6);
  const usage = await cli(['owner', '--prefix', prefix]);
  t.is(usage.code, 2, describe(usage));
  const notPrefix = await cli(['owner', 'x', '--prefix', path.join(dir, 'nope')]);
  t.is(notPrefix.code, 6, describe(notPrefix));
});

test(`owner on a ${BIG_FILES}-file prefix answers from one pass over the active manifests`, async (t) => {
  t.timeout(10 * 60_000); // adding and activating the big package (100k files in torture mode) on a loaded machine; the query itself is not timed here
  const { dir, cli, add, activate } = await setup(t, 'owner-big');
  const prefix = path.join(dir, 'p');
  await activateBigPackage(t, cli, prefix);
  await add('small', '1', { 'bin/small': 's\n' });
  await activate(prefix, ['small']);
  const started = Date.now();
  const r = await cli(
    [
      'owner',
      'd0/f0',
      `${prefix}/${BIG_LAST}`,
      'd100',
      'bin/small',
      'd3/missing',
      '--prefix',
      prefix,
    ],
    { timeoutMs: 120_000 },
  );
  t.log(
    `owner of 5 paths on a ${BIG_FILES}-file prefix: ${Date.now() - started} ms (process start included)`,
  );
  t.is(r.code, 6, describe(r));
  t.is(r.stdout, `big@1: d0/f0\nbig@1: ${prefix}/${BIG_LAST}\nbig@1: d100\nsmall@1: bin/small\n`);
  t.regex(r.stderr, /no active package owns d3\/missing/);
});

test('info NAME --prefix shows the version active there, not the latest added', async (t) => {
  const { dir, cli, add, activate, ok } = await setup(t, 'info');
  const a1 = await add('a', '1', A1);
  const prefix = path.join(dir, 'p');
  await activate(prefix, ['a@1']);
  const a2 = await add('a', '2', { ...A1, 'bin/a': 'a 2\n' });
  const bare = await cli(['info', 'a', '--json']);
  t.is(bare.code, 7, `without --prefix, NAME with two versions is ambiguous\n${describe(bare)}`);
  t.true(bare.stderr.includes(a2), 'the candidates are listed');
  const here = await ok(['info', 'a', '--prefix', prefix]);
  t.regex(here.stdout, new RegExp(`^id: +${a1}\n`));
  t.regex(here.stdout, /\nversion: +1\n/);
  t.is(jsonOut<Ref>(await ok(['info', 'a@1', '--prefix', prefix, '--json'])).id, a1);
  t.is(jsonOut<Ref>(await ok(['info', a1.slice(0, 10), '--prefix', prefix, '--json'])).id, a1);
  const paths = jsonOut<{ paths: Array<{ path: string }> }>(
    await ok(['info', 'a', '--prefix', prefix, '--paths', '--json']),
  );
  t.true(paths.paths.some((p) => p.path === 'bin/a'));
  const other = await cli(['info', 'a@2', '--prefix', prefix]);
  t.is(other.code, 6, describe(other));
  t.regex(other.stderr, /a@2 is not active in .* \(a@1 is\)/);
  const inactive = await cli(['info', a2.slice(0, 10), '--prefix', prefix]);
  t.is(inactive.code, 6, describe(inactive));
  const none = await cli(['info', 'zzz', '--prefix', prefix, '--json']);
  t.is(none.code, 6);
  t.is(JSON.parse(none.stderr.trim()).error.code, 'EPSTORE_NOT_FOUND');
});

interface Diff {
  from: number;
  to: number;
  added: Ref[];
  removed: Ref[];
  upgraded: Array<{ name: string; from: Ref; to: Ref }>;
  downgraded: Array<{ name: string; from: Ref; to: Ref }>;
  changed: Array<{ name: string; from: Ref; to: Ref }>;
  files?: { added: string[]; removed: string[]; changed: string[] };
}

test('diff: packages added, removed, up- and downgraded between generations, and with --files the paths', async (t) => {
  const { dir, cli, add, activate, ok } = await setup(t, 'diff');
  const a1 = await add('a', '1', A1);
  const b1 = await add('b', '1', B1);
  const prefix = path.join(dir, 'p');
  await activate(prefix, ['a', 'b']); // generation 1
  const a2 = await add('a', '2', {
    'bin/a': 'a 2\n',
    'share/doc/a/README': 'a\n',
    'share/doc/a/NEWS': 'new\n',
  });
  const c1 = await add('c', '1', { 'bin/c': 'c\n' });
  await activate(prefix, ['a@2', 'c']);
  await ok(['deactivate', 'b', '--prefix', prefix, '--quiet']); // generation 3
  const d = await ok(['diff', '1', '3', '--prefix', prefix, '--files']);
  t.is(
    d.stdout,
    [
      'generation 1 -> 3',
      '+ c@1',
      '- b@1',
      '^ a 1 -> 2',
      '  A bin/c',
      '  A share/doc/a/NEWS',
      '  D bin/b',
      '  D lib',
      '  D lib/liba.so',
      '  D lib/liba.so.1',
      '  D share/doc/b',
      '  D share/doc/b/README',
      '  M bin/a',
      '',
    ].join('\n'),
  );
  const j = jsonOut<Diff>(await ok(['diff', '1', '3', '--prefix', prefix, '--json']));
  t.deepEqual(
    j,
    {
      prefix: await fsp.realpath(prefix),
      from: 1,
      to: 3,
      added: [{ name: 'c', version: '1', id: c1 }],
      removed: [{ name: 'b', version: '1', id: b1 }],
      upgraded: [
        {
          name: 'a',
          from: { name: 'a', version: '1', id: a1 },
          to: { name: 'a', version: '2', id: a2 },
        },
      ],
      downgraded: [],
      changed: [],
    } as unknown as Diff,
    'no files without --files',
  );
  // Default: the previous generation to the current one.
  t.is((await ok(['diff', '--prefix', prefix])).stdout, 'generation 2 -> 3\n- b@1\n');
  // One generation: from it to the current one; 0 is the empty prefix.
  t.is((await ok(['diff', '0', '--prefix', prefix])).stdout, 'generation 0 -> 3\n+ a@2\n+ c@1\n');
  t.is(
    (await ok(['diff', '3', '3', '--prefix', prefix])).stdout,
    'generation 3 -> 3: no differences\n',
  );
  // A downgrade, and the same version with other content.
  await activate(prefix, [a1]); // generation 4
  t.deepEqual(
    jsonOut<Diff>(await ok(['diff', '--prefix', prefix, '--json'])).downgraded.map((c) => [
      c.from.version,
      c.to.version,
    ]),
    [['2', '1']],
  );
  const c1b = await add('c', '1', { 'bin/c': 'c rebuilt\n' });
  await activate(prefix, [c1b]); // generation 5
  const changed = await ok(['diff', '--prefix', prefix, '--files']);
  t.is(
    changed.stdout,
    `generation 4 -> 5\n~ c 1 (${c1.slice(0, 12)} -> ${c1b.slice(0, 12)})\n  M bin/c\n`,
  );
  for (const [args, code] of [
    [['diff', '9'], 6],
    [['diff', 'x'], 2],
    [['diff', '1', '2', '3'], 2],
    [['diff', '-1'], 2],
  ] as const) {
    const r = await cli([...args, '--prefix', prefix]);
    t.is(r.code, code, describe(r));
  }
});

test('deactivate NAME@VERSION: the active version is removed; another version exits 6 naming the active one, changing nothing', async (t) => {
  const { dir, cli, add, activate, ok } = await setup(t, 'deact');
  await add('a', '1', A1);
  await add('b', '1', B1);
  const prefix = path.join(dir, 'p');
  await activate(prefix, ['a', 'b']);
  await add('a', '2', { ...A1, 'bin/a': 'a 2\n' });
  const before = await describeTree(prefix);
  const wrong = await cli(['deactivate', 'a@2', '--prefix', prefix]);
  t.is(wrong.code, 6, describe(wrong));
  t.regex(wrong.stderr, /EPSTORE_NOT_FOUND: a@2 is not active in this prefix \(a@1 is\)/);
  const wrongJson = await cli(['deactivate', 'a@2', '--prefix', prefix, '--json']);
  t.deepEqual(
    JSON.parse(wrongJson.stderr.trim()).error.data.active.map((p: Ref) => p.version),
    ['1'],
  );
  t.deepEqual(await describeTree(prefix), before);
  t.is(
    jsonOut<{ generation: number }>(await ok(['status', '--prefix', prefix, '--json'])).generation,
    1,
  );
  const r = await ok(['deactivate', 'a@1', '--prefix', prefix]);
  t.regex(r.stdout, /^- a@1\n.*generation 2 \(was 1\)\n$/s);
  t.deepEqual(
    jsonOut<{ packages: Ref[] }>(await ok(['status', '--prefix', prefix, '--json'])).packages.map(
      (p) => p.name,
    ),
    ['b'],
  );
  const gone = await cli(['deactivate', 'a@1', '--prefix', prefix]);
  t.is(gone.code, 6, describe(gone));
  t.regex(gone.stderr, /a@1 is not active in this prefix\n/);
});
