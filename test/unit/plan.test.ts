// lib/txn/plan.ts and plan-paths.ts: the pure diff from one package set to another (SPEC.md §Plan).
// Inputs are literal manifests; every expectation is written out by hand from the rules: paths
// owned by one package (directories shared), marker units removed first and placed last, type
// changes cleared first, bytecode of leaving modules dropped.

import test from 'ava';
import { refuses } from '../_helpers/errors.js';
import type { ManifestFile } from '../../lib/core/types.js';
import { planTransaction, sameFile, type PlanPackage } from '../../lib/txn/plan.js';
import { touchedPaths } from '../../lib/txn/plan-paths.js';
import { fakeId, mdir, mfile, mlink, withParents } from '../_helpers/manifests.js';

const SITE = 'lib/py';

function pkg(
  name: string,
  version: string,
  files: readonly ManifestFile[],
  markers: string[] = [],
): PlanPackage {
  const all = withParents(files);
  return {
    ref: { name, version, id: fakeId(`${name}@${version}:${JSON.stringify(all)}`) },
    manifest: { formatVersion: 1, name, version, markers, files: all },
  };
}

/** A Python package: two modules, a script, a .dist-info unit (and a .pth when asked). */
function py(name: string, version: string, opts: { pth?: boolean; legacy?: boolean } = {}) {
  return pkg(name, version, [
    mfile(`${SITE}/${name}/__init__.py`, `VERSION = "${version}"\n`),
    mfile(`${SITE}/${name}/static.py`, 'STATIC = 1\n'),
    ...(opts.legacy ? [mfile(`${SITE}/${name}/legacy.py`, 'OLD = 1\n')] : []),
    mfile(`bin/${name}`, `#!/bin/sh\necho ${version}\n`, true),
    mfile(`${SITE}/${name}-${version}.dist-info/METADATA`, `Name: ${name}\nVersion: ${version}\n`),
    mfile(`${SITE}/${name}-${version}.dist-info/RECORD`, `${name}/__init__.py,,\n`),
    ...(opts.pth ? [mfile(`${SITE}/${name}.pth`, `${version}\n`)] : []),
  ]);
}

const paths = (files: readonly { path: string }[]) => files.map((f) => f.path);

test('nothing to nothing, and a set to itself, is a no-op that touches nothing', (t) => {
  for (const set of [[], [py('alpha', '1.0'), py('beta', '1.0')]]) {
    const plan = planTransaction(set, set);
    t.true(plan.noop);
    const touched = touchedPaths(plan);
    t.deepEqual([...touched.created, ...touched.replaced, ...touched.dirs], []);
    t.deepEqual(plan.placeMarkers, []);
    t.deepEqual(plan.removeMarkers, []);
  }
});

test('activating into an empty prefix: directories made parents first, files placed, the .dist-info unit last', (t) => {
  const plan = planTransaction([], [py('alpha', '1.0')]);
  t.false(plan.noop);
  t.deepEqual(plan.mkdirs, ['bin', 'lib', 'lib/py', 'lib/py/alpha']);
  t.deepEqual(plan.place.map((p) => [p.file.path, p.replace]).sort(), [
    ['bin/alpha', false],
    ['lib/py/alpha/__init__.py', false],
    ['lib/py/alpha/static.py', false],
  ]);
  t.deepEqual(plan.newModules.sort(), ['lib/py/alpha/__init__.py', 'lib/py/alpha/static.py']);
  t.deepEqual(plan.pycacheFor, []);
  t.deepEqual(
    plan.placeMarkers.map((u) => [u.path, paths(u.files)]),
    [
      [
        'lib/py/alpha-1.0.dist-info',
        [
          'lib/py/alpha-1.0.dist-info',
          'lib/py/alpha-1.0.dist-info/METADATA',
          'lib/py/alpha-1.0.dist-info/RECORD',
        ],
      ],
    ],
  );
  // marker files never travel with the plain files
  t.false(plan.place.some((p) => p.file.path.includes('.dist-info')));
  t.deepEqual(plan.removeMarkers, []);
  t.true(plan.owned.has('lib/py/alpha-1.0.dist-info/RECORD'));
});

test('upgrading: changed files replaced, unchanged ones left, leaving modules removed with their bytecode', (t) => {
  const plan = planTransaction([py('alpha', '1.0', { legacy: true })], [py('alpha', '2.0')]);
  t.deepEqual(
    plan.place.map((p) => [p.file.path, p.replace]).sort(),
    [
      ['bin/alpha', true],
      ['lib/py/alpha/__init__.py', true],
    ],
    'static.py has the same bytes in both versions: not placed again',
  );
  t.deepEqual(plan.remove, ['lib/py/alpha/legacy.py']);
  t.deepEqual(plan.pycacheFor.sort(), ['lib/py/alpha/__init__.py', 'lib/py/alpha/legacy.py']);
  t.deepEqual(plan.newModules, []);
  t.deepEqual(plan.removeMarkers, ['lib/py/alpha-1.0.dist-info']);
  t.deepEqual(
    plan.placeMarkers.map((u) => u.path),
    ['lib/py/alpha-2.0.dist-info'],
  );
  t.deepEqual(plan.mkdirs, []);
  t.deepEqual(plan.rmdirs, []);
});

test('a mode change alone replaces the file', (t) => {
  const a = pkg('tool', '1', [mfile('bin/run', 'same bytes', false)]);
  const b = pkg('tool', '2', [mfile('bin/run', 'same bytes', true)]);
  const plan = planTransaction([a], [b]);
  t.deepEqual(
    plan.place.map((p) => [p.file.path, p.replace]),
    [['bin/run', true]],
  );
});

test('shared directories stay while another package owns them; a leaving package’s own ones go, deepest first', (t) => {
  const alpha = py('alpha', '1.0');
  const beta = py('beta', '1.0');
  const plan = planTransaction([alpha, beta], [beta]);
  t.deepEqual(plan.rmdirs, ['lib/py/alpha'], 'bin, lib and lib/py are beta’s too');
  t.deepEqual(plan.remove.sort(), [
    'bin/alpha',
    'lib/py/alpha/__init__.py',
    'lib/py/alpha/static.py',
  ]);
  t.deepEqual(plan.removeMarkers, ['lib/py/alpha-1.0.dist-info']);
  t.deepEqual(plan.placeMarkers, [], 'beta did not change: its marker is not touched');

  const deep = pkg('deep', '1', [mfile('a/b/c/d.txt')]);
  t.deepEqual(planTransaction([deep], []).rmdirs, ['a/b/c', 'a/b', 'a']);
});

test('two packages shipping one path is a conflict naming the path, whatever the order', (t) => {
  const a = pkg('a', '1', [mfile('share/x.txt', 'a')]);
  const b = pkg('b', '1', [mfile('share/x.txt', 'b')]);
  for (const set of [
    [a, b],
    [b, a],
  ]) {
    refuses(t, () => planTransaction([], set), 'EPSTORE_CONFLICT', 'share/x.txt');
  }
  // the same bytes are still two owners of one path
  const same = pkg('c', '1', [mfile('share/x.txt', 'a')]);
  refuses(t, () => planTransaction([], [a, same]), 'EPSTORE_CONFLICT', 'share/x.txt');
  // a shared directory is not a conflict
  t.notThrows(() => planTransaction([], [a, pkg('d', '1', [mfile('share/y.txt')])]));
});

test('a collected conflict names who holds the path: its first shipper, or the last sharing it as a directory', (t) => {
  const owners = (set: PlanPackage[]) => {
    const found: unknown[] = [];
    planTransaction([], set, (err) => found.push((err.data as { owners?: string[] }).owners));
    return found;
  };
  const a = pkg('a', '1', [mfile('share/x.txt', 'a')]);
  const b = pkg('b', '1', [mfile('share/x.txt', 'b')]);
  const c = pkg('c', '1', [mfile('share/x.txt', 'c')]);
  t.deepEqual(owners([a, b, c]), [
    ['a', 'b'],
    ['a', 'c'],
  ]);
  const dirs = ['p', 'q'].map((n) => pkg(n, '1', [mdir('share/d')]));
  const file = pkg('r', '1', [mfile('share/d', 'r')]);
  t.deepEqual(owners([...dirs, file]), [['q', 'r']]);
});

test('a path that changes type is cleared first; what stood below it is not removed again', (t) => {
  const asDir = pkg('p', '1', [mfile('data/x/inner.txt'), mfile('data/x/sub/deep.txt')]);
  const asLink = pkg('p', '2', [mlink('data/x', '../elsewhere')]);
  const toLink = planTransaction([asDir], [asLink]);
  t.deepEqual(toLink.obstacles, ['data/x']);
  t.deepEqual(
    toLink.remove,
    [],
    'inner.txt went with data/x: removing it again would follow the new symlink',
  );
  t.deepEqual(toLink.rmdirs, []);
  t.deepEqual(
    toLink.place.map((p) => [p.file.path, p.file.type, p.replace]),
    [['data/x', 'symlink', true]],
  );

  const back = planTransaction([asLink], [asDir]);
  t.deepEqual(back.obstacles, ['data/x']);
  t.deepEqual(back.mkdirs, ['data/x', 'data/x/sub']);

  const fileToDir = planTransaction(
    [pkg('q', '1', [mfile('etc/conf')])],
    [pkg('q', '2', [mfile('etc/conf/main')])],
  );
  t.deepEqual(fileToDir.obstacles, ['etc/conf']);
  t.deepEqual(fileToDir.mkdirs, ['etc/conf']);
});

test('supporting markers (.pth) are placed before and removed after declaring ones (.dist-info)', (t) => {
  const up = planTransaction(
    [py('alpha', '1.0', { pth: true })],
    [py('alpha', '2.0', { pth: true })],
  );
  t.deepEqual(up.removeMarkers, ['lib/py/alpha-1.0.dist-info', 'lib/py/alpha.pth']);
  t.deepEqual(
    up.placeMarkers.map((u) => u.path),
    ['lib/py/alpha.pth', 'lib/py/alpha-2.0.dist-info'],
  );
  // the name order would say the opposite for a .pth sorting first
  const zeta = pkg('z', '1', [mfile('lib/py/_a.pth'), mfile('lib/py/z-1.dist-info/RECORD')]);
  const plan = planTransaction([], [zeta]);
  t.deepEqual(
    plan.placeMarkers.map((u) => u.path),
    ['lib/py/_a.pth', 'lib/py/z-1.dist-info'],
  );
  t.deepEqual(planTransaction([zeta], []).removeMarkers, ['lib/py/z-1.dist-info', 'lib/py/_a.pth']);
});

test('an entry’s own marker globs make units; a unit holds every package’s files below it', (t) => {
  const owner = pkg('stamp', '1', [mfile('var/db/stamps/owner')], ['var/db/stamps']);
  const plan = planTransaction([], [owner]);
  t.deepEqual(
    plan.placeMarkers.map((u) => [u.path, paths(u.files)]),
    [['var/db/stamps', ['var/db/stamps', 'var/db/stamps/owner']]],
  );
  t.deepEqual(plan.mkdirs, ['var', 'var/db']);

  // another package's file below that unit joins it (the glob is found in the union of the set)
  const other = pkg('other', '1', [mfile('var/db/stamps/other')]);
  const both = planTransaction([], [owner, other]);
  t.deepEqual(paths(both.placeMarkers[0]!.files), [
    'var/db/stamps',
    'var/db/stamps/other',
    'var/db/stamps/owner',
  ]);
  t.false(both.place.some((p) => p.file.path.startsWith('var/db/stamps')));
  // found manifest by manifest: the same whichever entry comes first
  t.deepEqual(planTransaction([], [other, owner]).placeMarkers, both.placeMarkers);
});

test('marker units of untouched packages stay; a changed package’s unit is rebuilt whole', (t) => {
  const plan = planTransaction(
    [py('alpha', '1.0'), py('beta', '1.0')],
    [py('alpha', '1.0'), py('beta', '2.0')],
  );
  t.deepEqual(plan.removeMarkers, ['lib/py/beta-1.0.dist-info']);
  t.deepEqual(
    plan.placeMarkers.map((u) => u.path),
    ['lib/py/beta-2.0.dist-info'],
  );
  t.false(plan.place.some((p) => p.file.path.includes('alpha')));
});

test('touchedPaths covers the plain steps and the marker units', (t) => {
  const plan = planTransaction([py('alpha', '1.0', { legacy: true })], [py('alpha', '2.0')]);
  const touched = touchedPaths(plan);
  t.deepEqual(touched.created.sort(), [
    'bin/alpha',
    'lib/py/alpha-2.0.dist-info',
    'lib/py/alpha-2.0.dist-info/METADATA',
    'lib/py/alpha-2.0.dist-info/RECORD',
    'lib/py/alpha/__init__.py',
  ]);
  t.true(touched.replaced.includes('lib/py/alpha/legacy.py'));
  t.true(touched.replaced.includes('lib/py/alpha-1.0.dist-info'));
});

test('sameFile compares type, bytes, mode and link target', (t) => {
  t.true(sameFile(mfile('a', 'x'), mfile('b', 'x')));
  t.false(sameFile(mfile('a', 'x'), mfile('a', 'y')));
  t.false(sameFile(mfile('a', 'x', false), mfile('a', 'x', true)));
  t.true(sameFile(mlink('a', 't'), mlink('a', 't')));
  t.false(sameFile(mlink('a', 't'), mlink('a', 'u')));
  t.false(sameFile(mdir('a'), mlink('a', 't')));
  t.true(sameFile(mdir('a'), mdir('a')));
});
