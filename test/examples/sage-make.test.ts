// examples/sage-make: SageMath's `make -j8` into one shared prefix through pstore, with a Python
// reader polling the prefix the whole time (needs ../shared/corpus; skipped without it). And a
// control that the reader is not blind: on a prefix with known damage it reports exactly that.

import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { REPO, assertBuilt } from '../_helpers/cli.js';
import { corpusSkipReason } from '../_helpers/corpus.js';
import { tempDir } from '../_helpers/tmp.js';
import { buildTree } from '../_helpers/tree.js';

const execFileP = promisify(execFile);
const EXAMPLE = path.join(REPO, 'examples', 'sage-make');

const skip = corpusSkipReason(['dpkg-deb', 'make', 'python3']);

if (skip) {
  test.skip(`examples/sage-make/run.sh (skipped: ${skip})`, () => {});
} else {
  test('examples/sage-make/run.sh: make -j8 into one prefix, no reader violation, reproduced by lock/sync and export/import', async (t) => {
    t.timeout(170_000);
    assertBuilt();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      JITTER: '1',
      TMPDIR: await tempDir(t, 'sage-make'),
    };
    for (const k of Object.keys(env)) if (k.startsWith('PSTORE_')) delete env[k];
    delete env.NODE_OPTIONS; // ava's --import=tsx must not reach the CLI the Makefile runs
    const started = Date.now();
    const r = await execFileP('bash', [path.join(EXAMPLE, 'run.sh')], {
      env,
      cwd: REPO,
      maxBuffer: 16 * 1024 * 1024,
      timeout: 160_000,
    }).then(
      (o) => ({ code: 0, stdout: o.stdout, stderr: o.stderr }),
      (err: { code?: number; stdout?: string; stderr?: string; signal?: string }) => ({
        code: err.code ?? err.signal ?? 'error',
        stdout: err.stdout ?? '',
        stderr: err.stderr ?? '',
      }),
    );
    t.log(`${((Date.now() - started) / 1000).toFixed(1)} s\n${r.stdout.trim()}`);
    t.is(r.code, 0, `run.sh failed:\n${r.stdout}\n${r.stderr}`);
    t.notRegex(r.stdout, /^SKIP:/m, 'it ran (the corpus is here)');
    t.regex(r.stdout, /^reader: \d+ polls .* 0 violations/m);
    t.regex(
      r.stdout,
      /^reader: the final poll verified every distribution: Cython Jinja2 alabaster pip setuptools setuptools-scm wheel/m,
    );
    t.regex(r.stdout, /verify --prefix ok/);
    t.regex(r.stdout, /lock \+ sync into a fresh prefix: same hash/);
    t.regex(r.stdout, /export --lock \+ import into a fresh store \+ sync: same hash/);
    t.regex(r.stdout, /^OK: sage-make: 8 packages built with make -j8/m);
  });
}

const hasPython = spawnSync('python3', ['-c', 'pass']).status === 0;
const noPython = hasPython ? test : test.skip;

noPython(
  'reader.py is not blind: a prefix with known damage gives exactly those violations, and only those',
  async (t) => {
    const dir = await tempDir(t, 'reader-control');
    const site = 'usr/lib/python3/dist-packages';
    const meta = (name: string, extra: Record<string, string> = {}) => ({
      [`${site}/${name}-1.0.dist-info/METADATA`]: `Metadata-Version: 2.1\nName: ${name}\nVersion: 1.0\n`,
      [`${site}/${name}-1.0.dist-info/top_level.txt`]: `${name}\n`,
      ...Object.fromEntries(
        Object.entries(extra).map(([k, v]) => [`${site}/${name}-1.0.dist-info/${k}`, v]),
      ),
    });
    const sha = (s: string) => createHash('sha256').update(s).digest('base64url');
    const goodInit = 'VALUE = 1\n';
    await buildTree(path.join(dir, 'prefix'), {
      // clean: a module, a RECORD that matches, an entry point that loads
      ...meta('good', {
        RECORD: `good/__init__.py,sha256=${sha(goodInit)},${goodInit.length}\ngood-1.0.dist-info/RECORD,,\n`,
        'entry_points.txt': '[console_scripts]\ngood = good:VALUE\n',
      }),
      [`${site}/good/__init__.py`]: goodInit,
      // violation: its package imports a submodule that is not there
      ...meta('broken'),
      [`${site}/broken/__init__.py`]: 'from .core import VALUE\n',
      // violation: a RECORD hash that does not match the file
      ...meta('hashbad', { RECORD: `hashbad/__init__.py,sha256=${sha('something else')},3\n` }),
      [`${site}/hashbad/__init__.py`]: 'X = 1\n',
      // violation: an entry point of its own module that cannot load
      ...meta('epbad', { 'entry_points.txt': '[console_scripts]\nepbad = epbad.cli:main\n' }),
      [`${site}/epbad/__init__.py`]: '',
      // not counted: needs a module that is neither in the prefix nor on the system
      ...meta('needsext'),
      [`${site}/needsext/__init__.py`]: 'import pstore_definitely_not_installed_xyz\n',
      // not counted: top_level.txt names a module nobody ships (as Debian's setuptools lists `debian`)
      ...meta('ghost'),
      // not counted: imports a package that no visible metadata announces (still being installed)
      ...meta('usesit'),
      [`${site}/usesit/__init__.py`]: 'import halfway\n',
      [`${site}/halfway/__init__.py`]: 'from . import not_yet_there\n',
    });
    const { stdout } = await execFileP('python3', [
      '-I',
      path.join(EXAMPLE, 'reader.py'),
      '--prefix',
      path.join(dir, 'prefix'),
      '--min-polls',
      '1',
    ]);
    const r = JSON.parse(stdout) as {
      polls: number;
      violations: number;
      details: Array<{ dist: string; problem: string }>;
      unmet: Record<string, number>;
      unclaimed: Record<string, number>;
      final: string[];
    };
    t.is(r.polls, 2, 'one poll, then the final one');
    t.deepEqual(
      [...new Set(r.details.map((d) => d.dist))].sort(),
      ['broken', 'epbad', 'hashbad'],
      JSON.stringify(r.details, null, 2),
    );
    t.is(r.violations, 6, 'three distributions, two polls');
    t.true(
      r.details.some((d) => d.dist === 'broken' && /broken\.core/.test(d.problem)),
      JSON.stringify(r.details),
    );
    t.true(
      r.details.some(
        (d) => d.dist === 'hashbad' && /hash mismatch hashbad\/__init__\.py/.test(d.problem),
      ),
    );
    t.true(r.details.some((d) => d.dist === 'epbad' && /entry point epbad/.test(d.problem)));
    t.deepEqual(Object.keys(r.unmet).sort(), ['ghost', 'pstore_definitely_not_installed_xyz']);
    t.deepEqual(Object.keys(r.unclaimed), ['halfway']);
    t.deepEqual(r.final, ['ghost', 'good', 'needsext', 'usesit']);
  },
);

// A missing module that *is* in the final prefix was missing while its metadata was visible: counted.
noPython(
  'reader.py counts a module that was missing at a poll but present at the end',
  async (t) => {
    const dir = await tempDir(t, 'reader-late');
    const site = path.join(dir, 'prefix', 'usr/lib/python3/dist-packages');
    await buildTree(site, {
      'late-1.0.dist-info/METADATA': 'Metadata-Version: 2.1\nName: late\nVersion: 1.0\n',
      'late-1.0.dist-info/top_level.txt': 'late\n',
    });
    const stop = path.join(dir, 'stop');
    const progress = path.join(dir, 'progress.json');
    const child = execFileP('python3', [
      '-I',
      path.join(EXAMPLE, 'reader.py'),
      '--prefix',
      path.join(dir, 'prefix'),
      '--stop-file',
      stop,
      '--seconds',
      '60',
      '--progress-file',
      progress,
    ]);
    // let it poll the marker without its module a few times, then "finish the install" and stop it
    const deadline = Date.now() + 30_000;
    for (;;) {
      const seen = await fsp.readFile(progress, 'utf8').then(
        (s) => (JSON.parse(s) as { busyPolls: number }).busyPolls,
        () => 0,
      );
      if (seen >= 3) break;
      if (Date.now() > deadline) throw new Error('the reader did not poll within 30 s');
      await new Promise((res) => setTimeout(res, 20));
    }
    await fsp.mkdir(path.join(site, 'late'));
    await fsp.writeFile(path.join(site, 'late', '__init__.py'), '');
    await fsp.writeFile(stop, '');
    const r = JSON.parse((await child).stdout) as {
      polls: number;
      violations: number;
      details: Array<{ dist: string; problem: string }>;
      final: string[];
    };
    t.true(r.polls >= 2, `${r.polls} polls`);
    t.true(r.violations >= 1, JSON.stringify(r));
    // judged at the end ("present in the final prefix"), or at once if the module appeared between the
    // failed import and the judgement: counted either way
    t.true(
      r.details.every((d) => d.dist === 'late' && /No module named 'late'/.test(d.problem)),
      JSON.stringify(r.details),
    );
    t.true(
      r.details.some((d) => /present in the final prefix/.test(d.problem)),
      JSON.stringify(r.details),
    );
    t.deepEqual(r.final, ['late']);
  },
);
