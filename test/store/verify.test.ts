// `verify` rehashes every object and checks every manifest, and names each damaged entry and path.

import type { VerifyResult } from '../../lib/index.js';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { describe, jsonOut, storeCli, type CliResult } from '../_helpers/cli.js';
import { flipByte, manifestPathOf, objectPathOf } from '../_helpers/store.js';
import { buildTree, file, sha512Integrity } from '../_helpers/tree.js';
import { tempDir, tempStore } from '../_helpers/tmp.js';

// `verify --json` prints the library's VerifyResult.
type VerifyJson = VerifyResult;

const A_TXT = 'alpha only\n'.repeat(100);
const SHARED = 'shared by alpha and beta\n';
const TOOL = '#!/bin/sh\necho tool\n';

async function setup(t: ExecutionContext) {
  const dir = await tempDir(t, 'verify');
  const alphaSrc = await buildTree(path.join(dir, 'alpha'), {
    'a.txt': A_TXT,
    'shared.txt': SHARED,
    'bin/tool': file(TOOL, 0o755),
    'docs/one.txt': 'twin\n',
    'docs/two.txt': 'twin\n',
  });
  const betaSrc = await buildTree(path.join(dir, 'beta'), {
    'shared.txt': SHARED,
    'b.txt': 'beta only\n',
  });
  const store = await tempStore(t);
  const cli = storeCli(store);
  const add = async (src: string, name: string) => {
    const r = await cli(['add', src, '--name', name, '--version', '1', '--json']);
    t.is(r.code, 0, describe(r));
    return jsonOut<{ id: string }>(r).id;
  };
  const alpha = await add(alphaSrc, 'alpha');
  const beta = await add(betaSrc, 'beta');
  return { store, cli, alpha, beta };
}

const obj = (store: string, content: string, exec = false) =>
  objectPathOf(store, { integrity: sha512Integrity(Buffer.from(content)), exec });

function problemsOf(t: ExecutionContext, r: CliResult): VerifyJson {
  t.is(r.code, 4, describe(r));
  const v = jsonOut<VerifyJson>(r);
  t.false(v.ok);
  return v;
}

test('a clean store verifies: exit 0 and counts', async (t) => {
  const { cli } = await setup(t);
  const r = await cli(['verify', '--json']);
  t.is(r.code, 0, describe(r));
  const distinct = [A_TXT, SHARED, TOOL, 'twin\n', 'beta only\n'];
  const v = jsonOut<VerifyJson>(r);
  t.like(v, {
    ok: true,
    entries: 2,
    objects: 5,
    bytes: distinct.reduce((n, s) => n + Buffer.byteLength(s), 0),
  });
  t.deepEqual(v.problems, []);
  const human = await cli(['verify']);
  t.is(human.code, 0, describe(human));
  t.regex(human.stdout, /^ok: 2 entries, 5 objects/m);
});

test('one flipped byte: exit 4 naming the entry and the path as corrupt', async (t) => {
  const { store, cli, alpha } = await setup(t);
  await flipByte(obj(store, A_TXT), 500);
  const v = problemsOf(t, await cli(['verify', '--json']));
  t.deepEqual(v.problems, [
    { id: alpha, name: 'alpha', version: '1', manifest: 'ok', missing: [], corrupt: ['a.txt'] },
  ]);

  const human = await cli(['verify']);
  t.is(human.code, 4, describe(human));
  t.true(human.stdout.includes('alpha@1'), human.stdout);
  t.true(human.stdout.includes('corrupt: a.txt'), human.stdout);
  t.false(human.stdout.includes('beta@1'), 'the undamaged entry is not named');
});

test('a damaged shared object is reported for every entry and path that uses it', async (t) => {
  const { store, cli, alpha, beta } = await setup(t);
  await flipByte(obj(store, SHARED));
  await flipByte(obj(store, 'twin\n'));
  const v = problemsOf(t, await cli(['verify', '--json']));
  const byName = Object.fromEntries(
    v.problems.map((p) => [p.name, { ...p, corrupt: [...p.corrupt].sort() }]),
  );
  t.deepEqual(byName, {
    alpha: {
      id: alpha,
      name: 'alpha',
      version: '1',
      manifest: 'ok',
      missing: [],
      corrupt: ['docs/one.txt', 'docs/two.txt', 'shared.txt'],
    },
    beta: {
      id: beta,
      name: 'beta',
      version: '1',
      manifest: 'ok',
      missing: [],
      corrupt: ['shared.txt'],
    },
  });
});

test('a deleted object is reported missing', async (t) => {
  const { store, cli, alpha } = await setup(t);
  await fsp.rm(obj(store, TOOL, true));
  const v = problemsOf(t, await cli(['verify', '--json']));
  t.deepEqual(v.problems, [
    { id: alpha, name: 'alpha', version: '1', manifest: 'ok', missing: ['bin/tool'], corrupt: [] },
  ]);
  const human = await cli(['verify']);
  t.is(human.code, 4);
  t.true(human.stdout.includes('missing: bin/tool'), human.stdout);
});

test('a truncated object is reported corrupt', async (t) => {
  const { store, cli } = await setup(t);
  const f = obj(store, A_TXT);
  await fsp.chmod(f, 0o644);
  await fsp.truncate(f, 10);
  await fsp.chmod(f, 0o444);
  const v = problemsOf(t, await cli(['verify', '--json']));
  t.deepEqual(
    v.problems.map((p) => [p.name, p.corrupt]),
    [['alpha', ['a.txt']]],
  );
});

test('an executable object that lost its exec bit is reported corrupt', async (t) => {
  const { store, cli } = await setup(t);
  await fsp.chmod(obj(store, TOOL, true), 0o444);
  const v = problemsOf(t, await cli(['verify', '--json']));
  t.deepEqual(
    v.problems.map((p) => [p.name, p.corrupt]),
    [['alpha', ['bin/tool']]],
  );
});

test('a tampered manifest is reported corrupt', async (t) => {
  const { store, cli, alpha } = await setup(t);
  const file = manifestPathOf(store, alpha);
  const text = await fsp.readFile(file, 'utf8');
  t.true(text.includes('"a.txt"'));
  await fsp.chmod(file, 0o644);
  await fsp.writeFile(file, text.replace('"a.txt"', '"a.txx"')); // still valid JSON, wrong hash
  await fsp.chmod(file, 0o444);
  const v = problemsOf(t, await cli(['verify', '--json']));
  t.deepEqual(v.problems, [
    { id: alpha, name: 'alpha', version: '1', manifest: 'corrupt', missing: [], corrupt: [] },
  ]);
  const human = await cli(['verify']);
  t.is(human.code, 4);
  t.regex(human.stdout, /alpha@1 \([0-9a-f]{12}\): manifest corrupt/);
});

test('a manifest re-formatted without changing its meaning is reported corrupt (byte-exact check)', async (t) => {
  const { store, cli, alpha } = await setup(t);
  const file = manifestPathOf(store, alpha);
  const pretty = `${JSON.stringify(JSON.parse(await fsp.readFile(file, 'utf8')), null, 2)}\n`;
  await fsp.chmod(file, 0o644);
  await fsp.writeFile(file, pretty);
  await fsp.chmod(file, 0o444);
  const v = problemsOf(t, await cli(['verify', '--json']));
  t.deepEqual(
    v.problems.map((p) => [p.name, p.manifest]),
    [['alpha', 'corrupt']],
  );
});

test('a manifest that is not JSON is reported corrupt, a deleted one missing', async (t) => {
  const { store, cli, alpha, beta } = await setup(t);
  await fsp.chmod(manifestPathOf(store, alpha), 0o644);
  await fsp.writeFile(manifestPathOf(store, alpha), '{"formatVersion":1,');
  await fsp.rm(manifestPathOf(store, beta));
  const v = problemsOf(t, await cli(['verify', '--json']));
  const byName = Object.fromEntries(v.problems.map((p) => [p.name, p.manifest]));
  t.deepEqual(byName, { alpha: 'corrupt', beta: 'missing' });
});
