// The CLI's contract: help, exit codes, error lines, --json/--quiet, global option placement, refs.

import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { PREFIX_COMMANDS, REPO, describe, jsonOut, runCli, storeCli } from '../_helpers/cli.js';
import { assertError, assertJsonError } from '../_helpers/cli-errors.js';
import { buildTree, file } from '../_helpers/tree.js';
import { tempDir, tempStore } from '../_helpers/tmp.js';

const STORE_COMMANDS = ['add', 'ls', 'info', 'verify', 'gc'];

async function smallTree(t: ExecutionContext, content = 'hello\n'): Promise<string> {
  return buildTree(path.join(await tempDir(t, 'cli'), 'src'), {
    'bin/hello': file('#!/bin/sh\necho hello\n', 0o755),
    'share/hello.txt': content,
  });
}

test("pstore --help lists the commands and exits 0; every command has --help (a prefix command's names --prefix)", async (t) => {
  const main = await runCli(['--help']);
  t.is(main.code, 0, describe(main));
  t.regex(main.stdout, /^usage: pstore COMMAND/);
  const listed = [...main.stdout.matchAll(/^ {2}([a-z][a-z-]*) {2,}\S/gm)].map((m) => m[1]!);
  for (const c of [...STORE_COMMANDS, ...PREFIX_COMMANDS])
    t.true(listed.includes(c), `pstore --help lists ${c}: ${listed.join(' ')}`);
  t.deepEqual((await runCli(['-h'])).stdout, main.stdout, '-h is --help');
  t.is((await runCli(['help'])).code, 0);

  for (const c of listed) {
    const r = await runCli([c, '--help']);
    t.is(r.code, 0, `${c} --help: ${describe(r)}`);
    t.true(r.stdout.startsWith(`usage: pstore ${c}`), `${c} --help shows its usage:\n${r.stdout}`);
    t.true(r.stdout.includes('--store DIR'), `${c} --help lists the global options`);
    if ((PREFIX_COMMANDS as readonly string[]).includes(c))
      t.true(r.stdout.includes('--prefix'), `${c} --help mentions --prefix`);
    t.is(r.stderr, '');
    const viaHelp = await runCli(['help', c]);
    t.is(viaHelp.code, 0);
    t.is(viaHelp.stdout, r.stdout, `pstore help ${c} = pstore ${c} --help`);
  }
});

test('bare pstore prints the help and exits 2; --version prints the package version', async (t) => {
  const bare = await runCli([]);
  t.is(bare.code, 2, describe(bare));
  t.regex(bare.stdout, /^usage: pstore COMMAND/);
  const pkg = JSON.parse(await fsp.readFile(path.join(REPO, 'package.json'), 'utf8')) as {
    version: string;
  };
  const v = await runCli(['--version']);
  t.is(v.code, 0, describe(v));
  t.is(v.stdout, `${pkg.version}\n`);
});

test('an unknown command exits 2 naming it', async (t) => {
  const store = await tempStore(t);
  assertError(t, await runCli(['--store', store, 'frobnicate']), 2, 'EPSTORE_USAGE', 'frobnicate');
  assertJsonError(
    t,
    await runCli(['--store', store, '--json', 'frobnicate']),
    2,
    'EPSTORE_USAGE',
    'frobnicate',
  );
  t.false(existsSync(store), 'a usage error does not create the store');
});

test('a global option left without its value exits 2 naming it, not with the bare usage', async (t) => {
  for (const flag of ['--store', '--wait']) {
    const r = await runCli([flag]);
    assertError(t, r, 2, 'EPSTORE_USAGE', flag);
    t.regex(r.stderr, new RegExp(`${flag} needs a value`));
  }
});

test('an unknown flag exits 2 naming it', async (t) => {
  const store = await tempStore(t);
  assertError(
    t,
    await runCli(['--store', store, 'ls', '--frobnicate']),
    2,
    'EPSTORE_USAGE',
    '--frobnicate',
  );
  assertError(
    t,
    await runCli(['--store', store, 'add', '.', '--name', 'x', '--version', '1', '--colour']),
    2,
    'EPSTORE_USAGE',
    '--colour',
  );
  assertError(
    t,
    await runCli(['--store', store, '--bogus', 'verify']),
    2,
    'EPSTORE_USAGE',
    '--bogus',
  );
  assertJsonError(
    t,
    await runCli(['--store', store, 'gc', '--frobnicate', '--json']),
    2,
    'EPSTORE_USAGE',
    '--frobnicate',
  );
  t.false(existsSync(store));
});

test('add without --name, --version or SOURCE exits 2 naming what is missing', async (t) => {
  const src = await smallTree(t);
  const store = await tempStore(t);
  const cli = storeCli(store);
  assertError(t, await cli(['add', src, '--version', '1']), 2, 'EPSTORE_USAGE', '--name');
  assertJsonError(
    t,
    await cli(['add', src, '--version', '1', '--json']),
    2,
    'EPSTORE_USAGE',
    '--name',
  );
  assertError(t, await cli(['add', src, '--name', 'x']), 2, 'EPSTORE_USAGE', '--version');
  assertError(t, await cli(['add', '--name', 'x', '--version', '1']), 2, 'EPSTORE_USAGE', 'SOURCE');
  assertError(
    t,
    await cli(['add', src, src, '--name', 'x', '--version', '1']),
    2,
    'EPSTORE_USAGE',
    src,
  );
  assertError(
    t,
    await cli(['add', src, '--name', 'two words', '--version', '1']),
    2,
    'EPSTORE_USAGE',
    '--name',
  );
  assertError(
    t,
    await cli(['add', src, '--name', 'a@b', '--version', '1']),
    2,
    'EPSTORE_USAGE',
    '--name',
  );
  assertError(
    t,
    await cli(['add', src, '--name', 'x', '--version', '1 2']),
    2,
    'EPSTORE_USAGE',
    '--version',
  );
  assertError(
    t,
    await cli(['add', src, '--name', 'x', '--version', '1', '--marker', '/etc/*']),
    2,
    'EPSTORE_USAGE',
    '--marker',
  );
  assertError(t, await cli(['ls', '--wait', 'soon']), 2, 'EPSTORE_USAGE', '--wait');
  // nothing was added: not even a store was created, so reading it is "no store" (exit 6)
  assertJsonError(t, await cli(['ls', '--json']), 6, 'EPSTORE_NOT_FOUND', store);
});

test('a source that does not exist exits 6 naming the path', async (t) => {
  const dir = await tempDir(t, 'nosrc');
  const store = await tempStore(t);
  const missing = path.join(dir, 'no-such-tree');
  assertError(
    t,
    await runCli(['--store', store, 'add', missing, '--name', 'x', '--version', '1']),
    6,
    'EPSTORE_NOT_FOUND',
    missing,
  );
  assertJsonError(
    t,
    await runCli(['--store', store, 'add', missing, '--name', 'x', '--version', '1', '--json']),
    6,
    'EPSTORE_NOT_FOUND',
    missing,
  );
  // a relative path is named as the absolute path it resolved to
  assertError(
    t,
    await runCli(['--store', store, 'add', 'no-such.tar', '--name', 'x', '--version', '1'], {
      cwd: dir,
    }),
    6,
    'EPSTORE_NOT_FOUND',
    path.join(dir, 'no-such.tar'),
  );
});

test('info of an unknown ref exits 6 naming it', async (t) => {
  const store = await tempStore(t);
  const cli = storeCli(store);
  const add = await cli(['add', await smallTree(t), '--name', 'known', '--version', '1']);
  t.is(add.code, 0, describe(add));
  for (const ref of ['unknown', 'unknown@1', 'known@2', 'deadbeefdeadbeef']) {
    assertError(t, await cli(['info', ref]), 6, 'EPSTORE_NOT_FOUND', ref);
    assertJsonError(t, await cli(['info', ref, '--json']), 6, 'EPSTORE_NOT_FOUND', ref);
  }
  assertError(t, await cli(['info']), 2, 'EPSTORE_USAGE', 'REF');
});

test('--quiet prints nothing on success, but still prints errors', async (t) => {
  const store = await tempStore(t);
  const src = await smallTree(t);
  for (const args of [
    ['add', src, '--name', 'q', '--version', '1', '--quiet'],
    ['-q', 'add', src, '--name', 'q', '--version', '1'],
    ['ls', '--quiet'],
    ['info', 'q@1', '--quiet'],
    ['verify', '-q'],
    ['--quiet', 'gc'],
  ]) {
    const r = await runCli(['--store', store, ...args]);
    t.is(r.code, 0, `${args.join(' ')}: ${describe(r)}`);
    t.is(r.stdout, '', `${args.join(' ')}: nothing on stdout`);
    t.is(r.stderr, '', `${args.join(' ')}: nothing on stderr`);
  }
  const ls = await runCli(['--store', store, 'ls', '--json']);
  t.is(jsonOut<unknown[]>(ls).length, 1, 'the quiet add happened');
  assertError(
    t,
    await runCli(['--store', store, 'info', 'nope', '--quiet']),
    6,
    'EPSTORE_NOT_FOUND',
    'nope',
  );
});

test('global options are accepted before and after the command', async (t) => {
  const store = await tempStore(t);
  const src = await smallTree(t);
  const forms: string[][] = [
    ['--store', store, '--json', '--wait', '5', 'add', src, '--name', 'g', '--version', '1'],
    ['add', src, '--name', 'g', '--version', '1', '--store', store, '--json', '--wait', '5'],
    ['--json', 'add', '--store', store, src, '--name', 'g', '--version', '1'],
    [`--store=${store}`, 'add', src, '--name=g', '--version=1', '--json', '--wait=5'],
  ];
  const ids = new Set<string>();
  for (const args of forms) {
    const r = await runCli(args);
    t.is(r.code, 0, `${args.join(' ')}: ${describe(r)}`);
    ids.add(jsonOut<{ id: string }>(r).id);
  }
  t.is(ids.size, 1, 'every form added the same entry to the same store');
  const before = await runCli(['--store', store, '--json', 'ls']);
  const after = await runCli(['ls', '--store', store, '--json']);
  t.is(before.code, 0);
  t.deepEqual(jsonOut(before), jsonOut(after));
  t.is(jsonOut<unknown[]>(after).length, 1);
});

test('the store location comes from --store, else $PSTORE_STORE, else $XDG_DATA_HOME/pstore', async (t) => {
  const dir = await tempDir(t, 'where');
  const src = await smallTree(t);
  const viaEnv = path.join(dir, 'env-store');
  const xdg = path.join(dir, 'xdg');
  const r1 = await runCli(['add', src, '--name', 'where', '--version', '1', '--quiet'], {
    env: { PSTORE_STORE: viaEnv, XDG_DATA_HOME: xdg },
  });
  t.is(r1.code, 0, describe(r1));
  t.true(existsSync(path.join(viaEnv, 'entries-v1')));
  t.false(existsSync(path.join(xdg, 'pstore')));
  const r2 = await runCli(['add', src, '--name', 'where', '--version', '1', '--quiet'], {
    env: { XDG_DATA_HOME: xdg },
  });
  t.is(r2.code, 0, describe(r2));
  t.true(existsSync(path.join(xdg, 'pstore', 'entries-v1')));
  const explicit = path.join(dir, 'explicit');
  const r3 = await runCli(['--store', explicit, 'ls', '--json'], { env: { PSTORE_STORE: viaEnv } });
  // --store wins over $PSTORE_STORE: the explicit store, which does not exist, is the one read
  assertJsonError(t, r3, 6, 'EPSTORE_NOT_FOUND', explicit);
});

test('free-form versions round-trip through NAME@VERSION refs', async (t) => {
  const store = await tempStore(t);
  const cli = storeCli(store);
  const versions = [
    '1:1.24.2-1+deb12u1',
    '1.0rc1',
    '2.0.0-beta+build',
    '2.0.0-beta',
    '0.0.0~git20240101.abcdef-3ubuntu1',
    'v7_β',
  ];
  const ids = new Map<string, string>();
  for (const [i, v] of versions.entries()) {
    const r = await cli([
      'add',
      await smallTree(t, `content ${i}\n`),
      '--name',
      'nginx',
      '--version',
      v,
      '--json',
    ]);
    t.is(r.code, 0, describe(r));
    const out = jsonOut<{ id: string; version: string }>(r);
    t.is(out.version, v);
    ids.set(v, out.id);
  }
  for (const v of versions) {
    const r = await cli(['info', `nginx@${v}`, '--json']);
    t.is(r.code, 0, describe(r));
    t.like(jsonOut(r), { id: ids.get(v), name: 'nginx', version: v });
  }
  const human = await cli(['ls']);
  for (const v of versions) t.true(human.stdout.includes(`nginx@${v}`), `ls shows nginx@${v}`);
  const bare = await cli(['info', 'nginx', '--json']);
  t.is(bare.code, 7, `NAME alone with several versions is ambiguous\n${describe(bare)}`);
  t.deepEqual(
    (
      JSON.parse(bare.stderr) as { error: { data: { candidates: Array<{ version: string }> } } }
    ).error.data.candidates.map((c) => c.version),
    versions,
    'the candidates, in the order added',
  );
});

test('a scoped name @scope/pkg@1.0 resolves', async (t) => {
  const store = await tempStore(t);
  const cli = storeCli(store);
  const one = await cli([
    'add',
    await smallTree(t, 'one\n'),
    '--name',
    '@scope/pkg',
    '--version',
    '1.0',
    '--json',
  ]);
  t.is(one.code, 0, describe(one));
  const two = await cli([
    'add',
    await smallTree(t, 'two\n'),
    '--name',
    '@scope/pkg',
    '--version',
    '1.0-2',
    '--json',
  ]);
  t.is(two.code, 0, describe(two));
  const r = await cli(['info', '@scope/pkg@1.0', '--json']);
  t.is(r.code, 0, describe(r));
  t.like(jsonOut(r), { id: jsonOut<{ id: string }>(one).id, name: '@scope/pkg', version: '1.0' });
  // a bare scoped name with two versions in the store names neither (bare-name.test.ts)
  assertError(t, await cli(['info', '@scope/pkg']), 7, 'EPSTORE_AMBIGUOUS', '@scope/pkg');
  t.like(jsonOut(await cli(['info', '@scope/pkg@1.0-2', '--json'])), {
    id: jsonOut<{ id: string }>(two).id,
    version: '1.0-2',
  });
  assertError(t, await cli(['info', '@scope/pkg@9']), 6, 'EPSTORE_NOT_FOUND', '@scope/pkg@9');
  assertError(t, await cli(['info', '@scope/other']), 6, 'EPSTORE_NOT_FOUND', '@scope/other');
});

test('human output: add prints the id, ls one line per entry, info the record', async (t) => {
  const store = await tempStore(t);
  const cli = storeCli(store);
  const add = await cli(['add', await smallTree(t), '--name', 'hello', '--version', '1.0']);
  t.is(add.code, 0, describe(add));
  t.regex(add.stdout, /^[0-9a-f]{40}\n$/);
  const id = add.stdout.trim();
  const ls = await cli(['ls']);
  t.is(ls.code, 0);
  t.is(ls.stdout.split('\n').filter(Boolean).length, 1);
  t.true(ls.stdout.startsWith(`${id.slice(0, 12)}  hello@1.0  2 files`), ls.stdout);
  const info = await cli(['info', id.slice(0, 8), '--paths']);
  t.is(info.code, 0, describe(info));
  t.regex(info.stdout, new RegExp(`^id: +${id}$`, 'm'));
  t.regex(info.stdout, /^ {2}x bin\/hello$/m);
  t.regex(info.stdout, /^ {2}f share\/hello.txt$/m);
  t.regex(info.stdout, /^ {2}d bin$/m);
});
