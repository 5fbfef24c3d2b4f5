// `pstore add FILE.whl` then `activate` lays a wheel out exactly as `python -m installer --destdir
// D --prefix /` does for the same interpreter (except INSTALLER, RECORD and the launchers' text),
// on generated wheels covering every layout case and on the corpus's real wheels; the launchers
// run; pip and importlib.metadata see a normal installation.

import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { describe, jsonOut, storeCli } from '../_helpers/cli.js';
import { corpusSkipReason, findDeb } from '../_helpers/corpus.js';
import { snapshotDir, type Snapshot } from '../_helpers/snapshot.js';
import { tempDir } from '../_helpers/tmp.js';
import {
  buildWheel,
  corpusWheels,
  fullWheel,
  installerPython,
  purelibOf,
} from '../_helpers/wheels.js';

const PY = installerPython();

/** activate the wheel with pstore and install it with installer; both trees, launchers named. */
async function bothInstalls(t: ExecutionContext, wheel: string, work: string) {
  const cli = storeCli(path.join(work, 'store'));
  const added = await cli(['add', wheel, '--python', PY!, '--json']);
  t.is(added.code, 0, describe(added));
  const entry = jsonOut<{ id: string; name: string; version: string; scheme: { scripts: string } }>(
    added,
  );
  const prefix = path.join(work, 'prefix');
  const act = await cli(['activate', entry.id, '--prefix', prefix]);
  t.is(act.code, 0, describe(act));
  const reference = path.join(work, 'installer');
  execFileSync(PY!, [
    '-m',
    'installer',
    '--no-compile-bytecode',
    '--destdir',
    reference,
    '--prefix',
    '/',
    wheel,
  ]);
  return { entry, prefix, reference };
}

function withoutOwnFiles(snap: Snapshot, launchers: readonly string[]): Snapshot {
  const out: Snapshot = {};
  for (const [p, v] of Object.entries(snap)) {
    if (p.startsWith('.pstore')) continue;
    if (/\.dist-info\/(INSTALLER|RECORD)$/.test(p)) continue;
    // pstore links read-only objects: only the exec bit of a file's mode is compared; a
    // launcher's text is its installer's own, its presence and exec bit must still agree
    const [type, mode = '', ...rest] = v.split(' ');
    if (type !== 'file') out[p] = v;
    else {
      const exec = (parseInt(mode, 8) & 0o111) !== 0 ? 'exec' : 'plain';
      out[p] = [type, exec, ...(launchers.includes(p) ? [] : rest)].join(' ');
    }
  }
  return out;
}

async function launcherPaths(prefix: string, scripts: string): Promise<string[]> {
  const found = execFileSync(
    'find',
    [prefix, '-name', 'entry_points.txt', '-path', '*.dist-info/*'],
    { encoding: 'utf8' },
  );
  const names: string[] = [];
  for (const file of found.split('\n').filter(Boolean)) {
    let group = '';
    for (const line of (await fsp.readFile(file, 'utf8')).split('\n')) {
      const s = /^\[(.+)\]/.exec(line.trim());
      if (s) group = s[1]!;
      else if ((group === 'console_scripts' || group === 'gui_scripts') && line.includes('='))
        names.push(`${scripts}/${line.split('=')[0]!.trim()}`);
    }
  }
  return names;
}

async function assertSameAsInstaller(
  t: ExecutionContext,
  wheel: string,
): Promise<{ prefix: string; site: string; name: string; version: string }> {
  const work = await tempDir(t, 'whl');
  const { entry, prefix, reference } = await bothInstalls(t, wheel, work);
  const launchers = await launcherPaths(prefix, entry.scheme.scripts);
  const ours = withoutOwnFiles(await snapshotDir(prefix), launchers);
  const theirs = withoutOwnFiles(await snapshotDir(reference), launchers);
  t.deepEqual(ours, theirs, path.basename(wheel));
  return { prefix, site: purelibOf(PY!, prefix), name: entry.name, version: entry.version };
}

if (PY === undefined) {
  test('an interpreter with the installer module is needed (apt-get install python3-installer)', (t) => {
    t.fail(
      'neither python3 nor /usr/bin/python3 can import installer: .ci/run installs python3-installer',
    );
  });
} else {
  test('generated wheel: every layout case equals installer; launchers run; pip and importlib see it', async (t) => {
    const dir = await tempDir(t, 'gen');
    const { prefix, site } = await assertSameAsInstaller(t, fullWheel(dir));
    const env = { ...process.env, PYTHONPATH: site };
    const bin = path.join(path.dirname(site), '..', '..', 'bin');
    t.is(execFileSync(path.join(bin, 'demo-cli'), { env, encoding: 'utf8' }), 'demo 1.0\n');
    t.is(execFileSync(path.join(bin, 'demo-gui'), { env, encoding: 'utf8' }), 'demo 1.0\n');
    t.is(execFileSync(path.join(bin, 'demo-script'), { env, encoding: 'utf8' }), 'script 1.0\n');
    const first = (await fsp.readFile(path.join(bin, 'demo-script'), 'utf8')).split('\n')[0];
    t.is(
      first,
      `#!${execFileSync(PY, ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim()}`,
    );
    const listed = JSON.parse(
      execFileSync(PY, ['-m', 'pip', 'list', '--path', site, '--format', 'json'], {
        encoding: 'utf8',
      }),
    ) as Array<{ name: string; version: string }>;
    t.deepEqual(listed, [{ name: 'demo-pkg', version: '1.0' }]);
    const meta = execFileSync(
      PY,
      [
        '-c',
        `import importlib.metadata as m, os, sys
d = [d for d in m.distributions(path=[sys.argv[1]])][0]
missing = [str(f) for f in d.files if not os.path.exists(d.locate_file(f))]
print(d.metadata['Name'], d.version, len(d.files), d.read_text('INSTALLER').strip(), missing)`,
        site,
      ],
      { encoding: 'utf8' },
    );
    t.is(meta.trim(), 'demo-pkg 1.0 17 pstore []');
    const shown = execFileSync(PY, ['-m', 'pip', 'show', '-f', 'demo-pkg'], {
      env,
      encoding: 'utf8',
    });
    t.regex(shown, /Version: 1\.0/);
    t.regex(shown, /demo_pkg\/sub\/deep\/mod\.py/);
    t.truthy(prefix);
  });

  test('Root-Is-Purelib: false goes to platlib; headers, data and scripts keys; --path overrides a key', async (t) => {
    const dir = await tempDir(t, 'plat');
    const wheel = buildWheel(dir, {
      name: 'plat-pkg',
      version: '2.0',
      rootIsPurelib: false,
      files: {
        'plat_pkg/__init__.py': 'X = 2\n',
        'plat_pkg/_native.so': Buffer.from([0x7f, 0x45, 0x4c, 0x46]),
      },
      data: { 'purelib/plat_pure.py': 'P = 1\n', 'headers/plat.h': '/* h */\n' },
    });
    await assertSameAsInstaller(t, wheel);
    const cli = storeCli(path.join(dir, 'store'));
    const r = await cli([
      'add',
      wheel,
      '--python',
      PY,
      '--path',
      'platlib=usr/lib/python3/dist-packages',
      '--json',
    ]);
    t.is(r.code, 0, describe(r));
    const info = jsonOut<{ paths: Array<{ path: string }> }>(
      await cli(['info', jsonOut<{ id: string }>(r).id, '--paths', '--json']),
    );
    t.true(info.paths.some((p) => p.path === 'usr/lib/python3/dist-packages/plat_pkg/_native.so'));
    const bad = await cli(['add', wheel, '--python', PY, '--path', 'nonsense=x']);
    t.is(bad.code, 2, describe(bad));
  });

  test('--name and --version are optional for a wheel and must agree', async (t) => {
    const dir = await tempDir(t, 'agree');
    const wheel = fullWheel(dir);
    const cli = storeCli(path.join(dir, 'store'));
    t.is(
      (await cli(['add', wheel, '--python', PY, '--name', 'Demo_Pkg', '--version', '1.0', '-q']))
        .code,
      0,
    );
    const wrongName = await cli(['add', wheel, '--python', PY, '--name', 'other', '--json']);
    t.is(wrongName.code, 2, describe(wrongName));
    t.regex(wrongName.stderr, /"subject":"--name"/);
    const wrongVersion = await cli(['add', wheel, '--python', PY, '--version', '9']);
    t.is(wrongVersion.code, 2, describe(wrongVersion));
    const unknownScheme = await cli(['add', wheel, '--python', PY, '--scheme', 'nope', '--json']);
    t.is(unknownScheme.code, 2, describe(unknownScheme));
    const noPython = await cli(['add', wheel, '--python', '/nonexistent/python3', '--json']);
    t.is(noPython.code, 6, describe(noPython));
    const wheelFlagOnTree = await cli(['add', dir, '--name', 'x', '--version', '1', '--compile']);
    t.is(wheelFlagOnTree.code, 2, describe(wheelFlagOnTree));
  });

  test('the same wheel, interpreter and options give the same entry id in two stores', async (t) => {
    const dir = await tempDir(t, 'ids');
    const wheel = fullWheel(dir);
    const ids = [];
    for (const s of ['a', 'b']) {
      const r = await storeCli(path.join(dir, s))(['add', wheel, '--python', PY, '--json']);
      ids.push(jsonOut<{ id: string }>(r).id);
    }
    t.is(ids[0], ids[1]);
  });

  const why = corpusSkipReason(['dpkg-deb']);
  if (why) test.skip(`corpus wheels (${why})`, () => {});
  else
    test('corpus wheels (pip, setuptools, wheel) equal installer; pip lists them', async (t) => {
      const dir = await tempDir(t, 'corpus');
      const debs = ['python3-pip-whl', 'python3-setuptools-whl', 'python3-wheel-whl'].map(findDeb);
      const wheels = corpusWheels(debs, path.join(dir, 'x'));
      t.is(wheels.length, 3);
      for (const wheel of wheels) {
        const { site, name, version } = await assertSameAsInstaller(t, wheel);
        const listed = execFileSync(
          PY,
          ['-m', 'pip', 'list', '--path', site, '--format', 'freeze'],
          { encoding: 'utf8' },
        );
        t.is(listed.trim(), `${name}==${version}`);
      }
    });
}
