// lib/core/markers.ts: which paths are metadata markers, how they group into units, and which
// are placed first (SPEC.md §Markers).

import test from 'ava';
import {
  DEFAULT_MARKER_GLOBS,
  markerMatcher,
  markerRank,
  markerUnits,
} from '../../lib/core/markers.js';

const isDefault = markerMatcher([]);

test('the default globs match the metadata of Python, pkg-config, CMake, stamps and conda', (t) => {
  for (const p of [
    'usr/lib/python3/dist-packages/numpy-1.24.2.dist-info',
    'lib/python3.11/site-packages/foo.egg-info',
    'site-packages/foo.egg-link',
    'site-packages/distutils-precedence.pth',
    'lib/pkgconfig/zlib.pc',
    'lib/cmake/Foo/FooConfig.cmake',
    'lib/cmake/foo-config.cmake',
    'var/lib/sage/installed/cython-0.29',
    'conda-meta/numpy-1.24.json',
    '.hidden/pkg.dist-info',
  ])
    t.true(isDefault(p), p);
  for (const p of [
    'usr/lib/python3/dist-packages/numpy/__init__.py',
    'usr/lib/python3/dist-packages/numpy-1.24.2.dist-info/RECORD', // inside a unit, not a unit
    'lib/pkgconfig/sub/zlib.pc',
    'share/doc/README.pc.txt',
    'var/lib/sage/installed',
    'conda-meta/history',
    'lib/FooConfig.cmake.in',
  ])
    t.false(isDefault(p), p);
  t.true(DEFAULT_MARKER_GLOBS.length > 0);
});

test('an entry’s own globs add to the defaults, and equal glob lists share one matcher', (t) => {
  const own = markerMatcher(['share/stamps/*']);
  t.true(own('share/stamps/done'));
  t.true(own('x.dist-info'));
  t.false(isDefault('share/stamps/done'));
  t.is(markerMatcher(['share/stamps/*']), own);
  t.is(markerMatcher([]), isDefault);
});

test('a unit is the top-most matching path; everything below it belongs to it', (t) => {
  const units = markerUnits(
    [
      'site',
      'site/a-1.dist-info',
      'site/a-1.dist-info/RECORD',
      'site/a-1.dist-info/licenses',
      'site/a-1.dist-info/licenses/x.pth',
      'site/a.pth',
      'site/a',
      'site/a/__init__.py',
    ],
    isDefault,
  );
  t.deepEqual(Object.fromEntries(units), {
    'site/a-1.dist-info': 'site/a-1.dist-info',
    'site/a-1.dist-info/RECORD': 'site/a-1.dist-info',
    'site/a-1.dist-info/licenses': 'site/a-1.dist-info',
    'site/a-1.dist-info/licenses/x.pth': 'site/a-1.dist-info',
    'site/a.pth': 'site/a.pth',
  });
});

test('supporting markers rank before declaring ones', (t) => {
  for (const p of ['s/a.pth', 's/a.egg-link', 'lib/pkgconfig/z.pc', 'lib/cmake/F/FConfig.cmake'])
    t.is(markerRank(p), 0, p);
  for (const p of ['s/a-1.dist-info', 's/a.egg-info', 'var/lib/x/installed/y', 'conda-meta/a.json'])
    t.is(markerRank(p), 1, p);
});

/** The definition: a path's unit is its parent's, else itself when it matches (one map lookup each). */
function unitsByParent(paths: readonly string[]): Map<string, string> {
  const units = new Map<string, string>();
  for (const p of paths) {
    const slash = p.lastIndexOf('/');
    const unit =
      (slash === -1 ? undefined : units.get(p.slice(0, slash))) ?? (isDefault(p) ? p : undefined);
    if (unit !== undefined) units.set(p, unit);
  }
  return units;
}

test('units follow their definition with one or many of them, and a name that merely extends a unit’s is not in it', (t) => {
  for (const count of [1, 9, 30]) {
    const paths = ['site'];
    for (let i = 0; i < count; i++) {
      const u = `site/p${i}.egg-info`;
      // `…egg-info-x.egg-info` starts with `…egg-info` but is a unit of its own, not a member
      paths.push(u, `${u}-x.egg-info`, `${u}-x.egg-info/PKG-INFO`, `${u}-y`, `${u}-y/a.py`);
      paths.push(
        `${u}/PKG-INFO`,
        `${u}/sub`,
        `${u}/sub/x.pth`,
        `${u}/sub/deeper`,
        `${u}/sub/deeper/f`,
      );
    }
    paths.push('site/q', 'site/q/a.pth', 'site/q/a.pth/inner', 'site/zz');
    paths.sort();
    const units = markerUnits(paths, isDefault);
    t.deepEqual(
      Object.fromEntries(units),
      Object.fromEntries(unitsByParent(paths)),
      `${count} units`,
    );
    t.is(units.get('site/p0.egg-info/sub/deeper/f'), 'site/p0.egg-info');
    t.is(units.get('site/p0.egg-info-x.egg-info/PKG-INFO'), 'site/p0.egg-info-x.egg-info');
    t.is(units.get('site/p0.egg-info-y/a.py'), undefined);
    t.is(units.get('site/q/a.pth/inner'), 'site/q/a.pth');
  }
});
