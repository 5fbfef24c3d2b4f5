// `add` names what an input is by its magic bytes (issue 10): xz, bzip2, zstd and ar archives are
// refused with the command that gets a tar out of them, a zip or .deb on stdin is asked for by
// file name; gzip tars and plain tars, from a file or stdin, still work. And .deb packages are a
// source of their own: name and version from the control file, the payload via dpkg-deb.

import { execFile, execFileSync } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { CLI, childEnv, describe, jsonOut, storeCli } from '../_helpers/cli.js';
import { corpusSkipReason, debField, extractDeb, findDeb } from '../_helpers/corpus.js';
import { buildTree } from '../_helpers/tree.js';
import { tempDir } from '../_helpers/tmp.js';
import { fullWheel } from '../_helpers/wheels.js';

async function sampleTar(dir: string): Promise<string> {
  await buildTree(path.join(dir, 'tree'), { 'share/a.txt': 'a\n', 'bin/run': 'x' });
  const tar = path.join(dir, 'a.tar');
  execFileSync('tar', ['-cf', tar, '-C', path.join(dir, 'tree'), '.']);
  return tar;
}

function errorOf(stderr: string): {
  code: string;
  message: string;
  subject: string;
  hint?: string;
} {
  return (JSON.parse(stderr) as { error: ReturnType<typeof errorOf> }).error;
}

test('compressed and foreign inputs are named with a hint; nothing is stored', async (t) => {
  const dir = await tempDir(t, 'fmt');
  const tar = await sampleTar(dir);
  const store = path.join(dir, 'store');
  const cli = storeCli(store);
  const cases: Array<[string, string[], RegExp, RegExp]> = [
    ['xz', ['xz', '-k', tar], /xz-compressed/, /xz -dc .*a\.tar\.xz \| pstore add -/],
    ['bz2', ['bzip2', '-k', tar], /bzip2-compressed/, /bzip2 -dc/],
    ['zst', ['zstd', '-q', '-k', tar], /zstd-compressed/, /zstd -dc/],
  ];
  for (const [ext, cmd, what, hint] of cases) {
    execFileSync(cmd[0]!, cmd.slice(1));
    const file = `${tar}.${ext}`;
    const r = await cli(['add', file, '--name', 'a', '--version', '1', '--json']);
    t.is(r.code, 7, describe(r));
    const e = errorOf(r.stderr);
    t.is(e.code, 'EPSTORE_BAD_ARCHIVE');
    t.is(e.subject, file);
    t.regex(e.message, what);
    t.regex(e.hint ?? '', hint);
    const piped = await cli(['add', '-', '--name', 'a', '--version', '1', '--json'], {
      input: await fsp.readFile(file),
    });
    t.is(piped.code, 7, describe(piped));
    t.regex(errorOf(piped.stderr).message, /^stdin is /);
  }
  const wheel = fullWheel(dir);
  const zipOnStdin = await cli(['add', '-', '--name', 'a', '--version', '1', '--json'], {
    input: await fsp.readFile(wheel),
  });
  t.is(zipOnStdin.code, 7, describe(zipOnStdin));
  t.regex(errorOf(zipOnStdin.stderr).hint ?? '', /pstore add FILE/);
  execFileSync('ar', ['rc', path.join(dir, 'lib.a'), tar]);
  const ar = await cli(['add', path.join(dir, 'lib.a'), '--name', 'a', '--version', '1', '--json']);
  t.is(ar.code, 7, describe(ar));
  t.regex(errorOf(ar.stderr).message, /ar archive/);
  t.false(existsSync(store));
});

test('plain and gzip tars still work from a file and from stdin, with the same id', async (t) => {
  const dir = await tempDir(t, 'tars');
  const tar = await sampleTar(dir);
  execFileSync('gzip', ['-k', tar]);
  const cli = storeCli(path.join(dir, 'store'));
  const ids = new Set<string>();
  for (const file of [tar, `${tar}.gz`]) {
    const r = await cli(['add', file, '--name', 'a', '--version', '1', '--json']);
    t.is(r.code, 0, describe(r));
    ids.add(jsonOut<{ id: string }>(r).id);
    const piped = await cli(['add', '-', '--name', 'a', '--version', '1', '--json'], {
      input: await fsp.readFile(file),
    });
    t.is(piped.code, 0, describe(piped));
    ids.add(jsonOut<{ id: string }>(piped).id);
  }
  t.is(ids.size, 1);
  const tiny = await cli(['add', '-', '--name', 'a', '--version', '1'], { input: 'ab' });
  t.is(tiny.code, 7, describe(tiny));
});

async function generatedDeb(dir: string): Promise<string> {
  const root = path.join(dir, 'pkg');
  await buildTree(root, {
    DEBIAN: {
      control:
        'Package: hello-pstore\nVersion: 1:2.0-1\nArchitecture: all\nMaintainer: t <t@t>\nDescription: test\n',
    },
    'usr/share/hello/a.txt': 'a\n',
    'usr/bin/hello': '#!/bin/sh\necho hello\n',
  });
  await fsp.chmod(path.join(root, 'usr/bin/hello'), 0o755);
  const deb = path.join(dir, 'hello.deb');
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', root, deb], {
    stdio: 'ignore',
  });
  return deb;
}

test('.deb: name and version from the control file; the same id as its extracted tree', async (t) => {
  const dir = await tempDir(t, 'deb');
  const deb = await generatedDeb(dir);
  const cli = storeCli(path.join(dir, 'store'));
  const r = await cli(['add', deb, '--json']);
  t.is(r.code, 0, describe(r));
  const entry = jsonOut<{ id: string; name: string; version: string; format: string }>(r);
  t.like(entry, { name: 'hello-pstore', version: '1:2.0-1', format: 'deb' });
  const tree = extractDeb(deb, path.join(dir, 'x'));
  const fromTree = await cli([
    'add',
    tree,
    '--name',
    'hello-pstore',
    '--version',
    '1:2.0-1',
    '--json',
  ]);
  t.is(jsonOut<{ id: string }>(fromTree).id, entry.id);
  const wrong = await cli(['add', deb, '--name', 'other']);
  t.is(wrong.code, 2, describe(wrong));
  const empty = path.join(dir, 'empty-path');
  await fsp.mkdir(empty);
  const noDpkg = await cli(['add', deb, '--json'], { env: { PATH: empty } });
  t.is(noDpkg.code, 7, describe(noDpkg));
  t.regex(errorOf(noDpkg.stderr).hint ?? '', /apt-get install dpkg/);
});

const why = corpusSkipReason(['dpkg-deb']);
if (why) test.skip(`corpus .debs (${why})`, () => {});
else
  test('corpus .debs: each the same entry as dpkg-deb -x of it', async (t) => {
    const dir = await tempDir(t, 'corpusdeb');
    const cli = storeCli(path.join(dir, 'store'));
    for (const pkg of ['python3-setuptools-scm', 'python3-jinja2', 'cython3']) {
      const deb = findDeb(pkg);
      const r = await cli(['add', deb, '--json']);
      t.is(r.code, 0, describe(r));
      const tree = extractDeb(deb, path.join(dir, pkg));
      const version = debField(deb, 'Version');
      const fromTree = await cli(['add', tree, '--name', pkg, '--version', version, '--json']);
      t.is(jsonOut<{ id: string }>(fromTree).id, jsonOut<{ id: string }>(r).id, pkg);
    }
  });

test('a tar ends at its end-of-archive blocks: what follows is let go, an endless source too; a device is no source', async (t) => {
  const dir = await tempDir(t, 'tar-end');
  const tar = await sampleTar(dir);
  const store = path.join(dir, 'store');
  const cli = storeCli(store);
  const alone = await cli(['add', tar, '--name', 'a', '--version', '1', '--json']);
  t.is(alone.code, 0, describe(alone));
  // as GNU tar: bytes after the end (here 8 MiB of zeros, then an endless stream) are not read
  const pipe = (producer: string) =>
    promisify(execFile)(
      'sh',
      [
        '-c',
        `${producer} | "${process.execPath}" "${CLI}" add - --name a --version 1 --store "${store}" --json`,
      ],
      { env: childEnv() },
    );
  const padded = await pipe(`{ cat "${tar}"; head -c 8388608 /dev/zero; }`);
  t.is(
    jsonOut<{ id: string }>({ ...alone, stdout: padded.stdout }).id,
    jsonOut<{ id: string }>(alone).id,
  );
  const endless = await pipe('cat /dev/zero');
  t.like(
    JSON.parse(endless.stdout),
    { name: 'a', version: '1' },
    'an all-zero stream: an empty archive, ended',
  );
  const device = await cli(['add', '/dev/zero', '--name', 'z', '--version', '1', '--json']);
  t.is(device.code, 7, describe(device));
  t.like(errorOf(device.stderr), { code: 'EPSTORE_INVALID', subject: '/dev/zero' });
});
