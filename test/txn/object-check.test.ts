// lib/txn/object-check.ts: before a transaction changes anything, every object it links is looked
// at (SPEC.md §Check), the marker units' files too, and the object path of each placed file is
// handed to the apply (plan.objectPaths) so that it is worked out once. Real files in a temp
// store; object paths are computed by the test's own helper, not pstore's.

import test from 'ava';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { ManifestFile } from '../../lib/core/types.js';
import { storeLayout } from '../../lib/store/layout.js';
import {
  packagesToCheck,
  refuseDamagedObjects,
  refuseUnlinkableObjects,
} from '../../lib/txn/object-check.js';
import { planTransaction, type PlanPackage } from '../../lib/txn/plan.js';
import { rejects } from '../_helpers/errors.js';
import { fakeId, mfile, mlink, withParents } from '../_helpers/manifests.js';
import { objectKeyOf, objectPathOf } from '../_helpers/store.js';
import { tempDir } from '../_helpers/tmp.js';

const CONTENT: Record<string, string> = {};

/** A file entry whose bytes the test can write as its object. */
function file(rel: string, content: string, exec = false): ManifestFile {
  CONTENT[rel] = content;
  return mfile(rel, content, exec);
}

function pkg(files: readonly ManifestFile[]): PlanPackage {
  const all = withParents(files);
  return {
    ref: { name: 'alpha', version: '1', id: fakeId(JSON.stringify(all)) },
    manifest: { formatVersion: 1, name: 'alpha', version: '1', markers: [], files: all },
  };
}

type FileEntry = Extract<ManifestFile, { type: 'file' }>;

/** The package's entry at `rel`, a regular file. */
function fileAt(rel: string): FileEntry {
  const f = alpha.manifest.files.find((g) => g.path === rel);
  if (f?.type !== 'file') throw new Error(`${rel} is not a file of alpha`);
  return f;
}

const alpha = pkg([
  file('bin/alpha', '#!/bin/sh\n', true),
  file('lib/a.py', 'same\n'),
  file('lib/b.py', 'same\n'), // the same object as lib/a.py
  mlink('lib/c.py', 'a.py'),
  file('lib/alpha-1.dist-info/METADATA', 'Name: alpha\n'),
]);

/** Every object the package links, written into a store at `root` as add would leave it. */
async function storeWithObjects(root: string, skip?: string): Promise<void> {
  for (const f of alpha.manifest.files) {
    if (f.type !== 'file' || f.path === skip) continue;
    const obj = objectPathOf(root, f);
    await fsp.mkdir(path.dirname(obj), { recursive: true });
    await fsp.writeFile(obj, CONTENT[f.path]!, { mode: f.exec ? 0o555 : 0o444 });
  }
}

test('the object check hands the apply the object path of every placed file, none for a symlink', async (t) => {
  const root = await tempDir(t, 'store');
  await storeWithObjects(root);
  const plan = planTransaction([], [alpha]);
  const paths = await refuseDamagedObjects(storeLayout(root), plan, [alpha]);
  t.is(paths.length, plan.place.length);
  plan.place.forEach(({ file }, i) =>
    t.is(paths[i], file.type === 'file' ? objectPathOf(root, file) : undefined, file.path),
  );
  t.true(plan.place.some(({ file }) => file.type === 'symlink'));
});

test("a marker unit's file is checked like any placed file: a missing object refuses the plan", async (t) => {
  const root = await tempDir(t, 'store');
  const metadata = 'lib/alpha-1.dist-info/METADATA';
  await storeWithObjects(root, metadata);
  const plan = planTransaction([], [alpha]);
  t.false(plan.place.some(({ file }) => file.path === metadata)); // placed with its unit, last
  await rejects(
    t,
    refuseDamagedObjects(storeLayout(root), plan, [alpha]),
    'EPSTORE_INTEGRITY',
    objectKeyOf(fileAt(metadata)),
  );
});

test('a damaged object two paths share is reported at the first of them', async (t) => {
  const root = await tempDir(t, 'store');
  await storeWithObjects(root);
  const shared = fileAt('lib/a.py');
  await fsp.chmod(objectPathOf(root, shared), 0o644);
  await fsp.appendFile(objectPathOf(root, shared), 'more\n'); // as a write through a prefix would
  const plan = planTransaction([], [alpha]);
  const err = await t.throwsAsync(refuseDamagedObjects(storeLayout(root), plan, [alpha]));
  t.like((err as { data?: unknown }).data, { reason: 'corrupt', path: 'lib/a.py' });
});

/** A second package (another name, its own objects), for the checks that look at some alone. */
const beta = ((): PlanPackage => {
  const files = withParents([file('share/beta/data', 'beta\n')]);
  return {
    ref: { name: 'beta', version: '1', id: fakeId(JSON.stringify(files)) },
    manifest: { formatVersion: 1, name: 'beta', version: '1', markers: [], files },
  };
})();

async function writeObject(root: string, f: FileEntry, content: string): Promise<void> {
  const obj = objectPathOf(root, f);
  await fsp.mkdir(path.dirname(obj), { recursive: true });
  await fsp.writeFile(obj, content, { mode: f.exec ? 0o555 : 0o444 });
}

const betaData = beta.manifest.files.find((f) => f.type === 'file') as FileEntry;

test('packagesToCheck: all when the committed tree is not hard-linked whole, else those it lacks', (t) => {
  const both = [alpha, beta];
  t.is(packagesToCheck(both, { packages: [alpha.ref] }), undefined);
  t.is(packagesToCheck(both, { packages: [alpha.ref], hardLinked: false }), undefined);
  t.deepEqual(packagesToCheck(both, { packages: [alpha.ref], hardLinked: true }), [beta]);
  t.deepEqual(packagesToCheck(both, { packages: [], hardLinked: true }), both);
});

test("`only`: the objects of the packages named are looked at, another's damage is passed over, and --verify looks at all", async (t) => {
  const root = await tempDir(t, 'store');
  await storeWithObjects(root);
  await writeObject(root, betaData, 'beta\n');
  const plan = planTransaction([], [alpha, beta]);
  const store = storeLayout(root);
  const shared = objectPathOf(root, fileAt('lib/a.py'));
  await fsp.chmod(shared, 0o644);
  await fsp.writeFile(shared, 'SAME\n'); // same size: only a rehash sees it
  await fsp.appendFile(objectPathOf(root, fileAt('bin/alpha')), 'more\n');

  const paths = await refuseDamagedObjects(store, plan, [alpha, beta], { only: [beta] });
  t.true(
    paths.every((p) => p === undefined),
    'a partial check hands over no paths',
  );
  await rejects(
    t,
    refuseDamagedObjects(store, plan, [alpha, beta], { only: [alpha] }),
    'EPSTORE_INTEGRITY',
    objectKeyOf(fileAt('bin/alpha')),
  );
  await fsp.chmod(objectPathOf(root, fileAt('bin/alpha')), 0o755);
  await fsp.writeFile(objectPathOf(root, fileAt('bin/alpha')), CONTENT['bin/alpha']!);
  await rejects(
    t,
    refuseDamagedObjects(store, plan, [alpha, beta], { only: [beta], verify: true }),
    'EPSTORE_INTEGRITY',
    objectKeyOf(fileAt('lib/a.py')),
  );
});

test('refuseUnlinkableObjects: an absent object or a directory is refused (in plan order); a damaged file present passes', async (t) => {
  const root = await tempDir(t, 'store');
  await storeWithObjects(root);
  await fsp.appendFile(objectPathOf(root, fileAt('bin/alpha')), 'more\n');
  const store = storeLayout(root);
  const plan = planTransaction([], [alpha, beta]);
  const err = t.throws(() => refuseUnlinkableObjects(store, plan, [alpha, beta]));
  t.like(err, {
    code: 'EPSTORE_INTEGRITY',
    subject: objectKeyOf(betaData),
    data: { reason: 'missing', path: 'share/beta/data', entry: beta.ref },
  });
  await fsp.mkdir(objectPathOf(root, betaData), { recursive: true });
  t.like(
    t.throws(() => refuseUnlinkableObjects(store, plan, [alpha, beta])),
    { code: 'EPSTORE_INTEGRITY', data: { reason: 'corrupt', path: 'share/beta/data' } },
    'a directory',
  );
  await fsp.rmdir(objectPathOf(root, betaData));
  await writeObject(root, betaData, 'beta\n');
  t.notThrows(() => refuseUnlinkableObjects(store, plan, [alpha, beta]));
  t.notThrows(() =>
    refuseUnlinkableObjects(store, plan, [alpha, beta], new Error('another cause')),
  );

  // the failure named an object another process has put back since: it is still the one named,
  // unless the new name's directory was what was missing (link() names the source all the same)
  const linkError = (dest: string) =>
    Object.assign(new Error('ENOENT: link'), {
      code: 'ENOENT',
      syscall: 'link',
      path: objectPathOf(root, betaData),
      dest,
    });
  const gone = linkError(path.join(root, 'tree-file'));
  const named = t.throws(() => refuseUnlinkableObjects(store, plan, [alpha, beta], gone));
  t.like(named, {
    code: 'EPSTORE_INTEGRITY',
    subject: objectKeyOf(betaData),
    data: { reason: 'missing' },
  });
  t.is(named?.cause, gone, "the build's error is the cause");
  t.notThrows(() =>
    refuseUnlinkableObjects(store, plan, [alpha, beta], linkError(path.join(root, 'no/dir/f'))),
  );
});
