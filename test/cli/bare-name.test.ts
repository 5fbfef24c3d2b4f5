// Which entry a bare NAME means (issue 10): in a prefix command the version active there; otherwise
// the only entry of that name; otherwise EPSTORE_AMBIGUOUS (exit 7) listing the candidates — so
// re-adding an old tar never silently downgrades the next `activate NAME`. Nothing matching is
// EPSTORE_NOT_FOUND listing what the store has for that name; a too short id prefix says so.

import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { describe, jsonOut, storeCli } from '../_helpers/cli.js';
import { buildTree } from '../_helpers/tree.js';
import { tempDir } from '../_helpers/tmp.js';

interface Ref {
  name: string;
  version: string;
  id: string;
}
interface ErrorOut {
  error: { code: string; subject: string; hint?: string; data?: { candidates?: Ref[] } };
}

async function setup(t: ExecutionContext) {
  const dir = await tempDir(t, 'bare');
  const cli = storeCli(path.join(dir, 'store'));
  const add = async (name: string, version: string, body: string): Promise<Ref> => {
    const src = await buildTree(path.join(dir, 'src', `${name}-${version}-${body.length}`), {
      [`bin/${name}`]: body,
    });
    const r = await cli(['add', src, '--name', name, '--version', version, '--json']);
    t.is(r.code, 0, describe(r));
    return { name, version, id: jsonOut<Ref>(r).id };
  };
  const fails = async (args: string[], code: number): Promise<ErrorOut['error']> => {
    const r = await cli([...args, '--json']);
    t.is(r.code, code, describe(r));
    return (JSON.parse(r.stderr) as ErrorOut).error;
  };
  return { dir, cli, add, fails };
}

test('one entry of a name: NAME means it; a second version makes NAME ambiguous (exit 7)', async (t) => {
  const { cli, add, fails } = await setup(t);
  const a1 = await add('a', '1', 'a 1\n');
  t.is(jsonOut<Ref>(await cli(['info', 'a', '--json'])).id, a1.id);
  const a2 = await add('a', '2', 'a 2\n');
  // re-adding the old version does not make it what NAME means either
  await add('a', '1', 'a 1\n');
  const err = await fails(['info', 'a'], 7);
  t.is(err.code, 'EPSTORE_AMBIGUOUS');
  t.is(err.subject, 'a');
  t.deepEqual(err.data?.candidates, [a2, a1], 'every candidate, the latest added last');
  const human = await cli(['info', 'a']);
  t.regex(
    human.stderr,
    new RegExp(`a@2 \\(${a2.id.slice(0, 12)}\\), a@1 \\(${a1.id.slice(0, 12)}\\)`),
  );
  // the same content under one version twice is ambiguous too
  await add('b', '1', 'b\n');
  const b1again = await add('b', '1', 'b rebuilt\n');
  t.is((await fails(['info', 'b'], 7)).data?.candidates?.length, 2);
  t.is(
    jsonOut<Ref>(await cli(['info', 'b@1', '--json'])).id,
    b1again.id,
    'NAME@VERSION: the latest add',
  );
});

test('in a prefix, NAME is the version active there; elsewhere it must be unique', async (t) => {
  const { dir, cli, add, fails } = await setup(t);
  const prefix = path.join(dir, 'p');
  const a1 = await add('a', '1', 'a 1\n');
  const ok = async (args: string[]) => {
    const r = await cli([...args, '--prefix', prefix, '--json']);
    t.is(r.code, 0, describe(r));
    return jsonOut<{ noop: boolean; activated: Ref[] }>(r);
  };
  t.deepEqual((await ok(['activate', 'a'])).activated, [a1]);
  await add('a', '2', 'a 2\n');
  // NAME is the active a@1: nothing to do, never a silent change of version
  t.true((await ok(['activate', 'a'])).noop);
  // a name not active here, with two versions in the store: refused, nothing changed
  await add('c', '1', 'c 1\n');
  await add('c', '2', 'c 2\n');
  const err = await fails(['activate', 'c', '--prefix', prefix], 7);
  t.is(err.code, 'EPSTORE_AMBIGUOUS');
  t.is((await cli(['status', '--prefix', prefix, '--json'])).stdout.includes('"c"'), false);
  t.deepEqual(
    (await ok(['activate', 'c@2'])).activated.map((r) => r.version),
    ['2'],
  );
});

test('nothing matches: the store lists what it has for the name; a short id prefix says so', async (t) => {
  const { cli, add, fails } = await setup(t);
  const a1 = await add('a', '1', 'a 1\n');
  const missing = await fails(['info', 'a@9'], 6);
  t.is(missing.code, 'EPSTORE_NOT_FOUND');
  t.deepEqual(missing.data?.candidates, [a1]);
  const short = await fails(['info', a1.id.slice(0, 6)], 6);
  t.is(short.code, 'EPSTORE_NOT_FOUND');
  t.regex(short.hint ?? '', /at least 8 hex digits/);
  const none = await fails(['info', 'zzz'], 6);
  t.is(none.data, undefined);
  t.is(jsonOut<Ref>(await cli(['info', a1.id.slice(0, 8), '--json'])).id, a1.id, '8 digits do');
});
