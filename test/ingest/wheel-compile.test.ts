// --compile: checked-hash .pyc files (PEP 552) in the entry, identical in two stores; Python
// imports the package without writing any bytecode and `verify --prefix` stays clean. Without
// --compile the same imports do write __pycache__ (so the check can fail).

import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { describe, jsonOut, storeCli } from '../_helpers/cli.js';
import { snapshotDir } from '../_helpers/snapshot.js';
import { tempDir } from '../_helpers/tmp.js';
import { fullWheel, purelibOf } from '../_helpers/wheels.js';

const PY = 'python3';
const IMPORTS =
  'import demo_pkg, demo_pkg.sub.deep.mod, demo_extra, importlib; importlib.import_module("demo_pkg.sub.deep.ünï")';

async function installed(dir: string, store: string, compile: boolean) {
  const cli = storeCli(path.join(dir, store));
  const wheel = path.join(dir, 'demo_pkg-1.0-py3-none-any.whl');
  const added = await cli([
    'add',
    wheel,
    '--python',
    PY,
    ...(compile ? ['--compile'] : []),
    '--json',
  ]);
  const prefix = path.join(dir, `${store}-prefix`);
  const act = await cli(['activate', 'demo-pkg', '--prefix', prefix, '-q']);
  return { cli, added, act, prefix, site: purelibOf(PY, prefix) };
}

function importAll(site: string): void {
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONPATH: site };
  delete env.PYTHONDONTWRITEBYTECODE;
  execFileSync(PY, ['-c', IMPORTS], { env });
}

test('--compile: checked-hash .pyc, same bytes in two stores, imports write nothing, verify clean', async (t) => {
  const dir = await tempDir(t, 'compile');
  fullWheel(dir);
  const a = await installed(dir, 'a', true);
  t.is(a.added.code, 0, describe(a.added));
  t.is(a.act.code, 0, describe(a.act));
  const entry = jsonOut<{ id: string; compiled: number }>(a.added);
  t.is(entry.compiled, 5);
  const b = await installed(dir, 'b', true);
  t.is(
    jsonOut<{ id: string }>(b.added).id,
    entry.id,
    'same wheel, interpreter and options: same id',
  );
  const tag = execFileSync(PY, ['-c', 'import sys; print(sys.implementation.cache_tag)'], {
    encoding: 'utf8',
  }).trim();
  const pyc = path.join('demo_pkg', 'sub', 'deep', '__pycache__', `mod.${tag}.pyc`);
  const bytesA = await fsp.readFile(path.join(a.site, pyc));
  t.deepEqual(bytesA, await fsp.readFile(path.join(b.site, pyc)));
  t.is(bytesA.readUInt32LE(4), 0b11, 'flags: hash-based, checked');
  const before = await snapshotDir(a.prefix);
  importAll(a.site);
  t.deepEqual(await snapshotDir(a.prefix), before, 'importing wrote no file');
  const verified = await a.cli(['verify', '--prefix', a.prefix]);
  t.is(verified.code, 0, describe(verified));
});

test('without --compile the same imports write __pycache__ (the check above can fail)', async (t) => {
  const dir = await tempDir(t, 'nocompile');
  fullWheel(dir);
  const c = await installed(dir, 'c', false);
  t.is(c.act.code, 0, describe(c.act));
  const before = await snapshotDir(c.prefix);
  importAll(c.site);
  const after = await snapshotDir(c.prefix);
  t.true(Object.keys(after).some((p) => p.includes('__pycache__') && !(p in before)));
});
