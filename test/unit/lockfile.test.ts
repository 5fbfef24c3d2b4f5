// lib/transfer/lockfile.ts: the lockfile format (SPEC.md §Lockfiles): stable bytes, and a parser
// that refuses anything malformed as EPSTORE_INVALID naming the file.

import test from 'ava';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { refuses, rejects } from '../_helpers/errors.js';
import {
  buildLockfile,
  lockedPackages,
  readLockfile,
  serializeLockfile,
  validateLockfile,
} from '../../lib/transfer/lockfile.js';
import { integrityOf } from '../_helpers/manifests.js';
import { tempDir } from '../_helpers/tmp.js';

/** A locked package whose id is derived from its integrity as SPEC says (first 40 hex digits). */
function locked(name: string, version = '1.0') {
  const integrity = integrityOf(`${name}@${version}`);
  const id = createHash('sha512').update(`${name}@${version}`).digest('hex').slice(0, 40);
  return { name, version, id, integrity };
}

test('serialized lockfiles are sorted by name, integer-like names included, and end in a newline', (t) => {
  const lock = buildLockfile([locked('b'), locked('10'), locked('9'), locked('a')]);
  const text = serializeLockfile(lock);
  const names = Object.keys((JSON.parse(text) as { packages: object }).packages);
  t.deepEqual(
    [...text.matchAll(/^ {4}"([^"]+)":/gm)].map((m) => m[1]),
    ['10', '9', 'a', 'b'],
  );
  t.deepEqual(names.sort(), ['10', '9', 'a', 'b']);
  t.true(text.endsWith('}\n'));
  t.is(serializeLockfile(buildLockfile([])), '{\n  "lockfileVersion": 1,\n  "packages": {}\n}\n');
  const a = locked('a');
  t.is(
    serializeLockfile(buildLockfile([a])),
    `{\n  "lockfileVersion": 1,\n  "packages": {\n    "a": {\n      "version": "1.0",\n      "id": "${a.id}",\n      "integrity": "${a.integrity}"\n    }\n  }\n}\n`,
  );
});

test('a lockfile round-trips through its text', (t) => {
  const pkgs = [locked('numpy', '1:1.24.2-1+deb12u1'), locked('@scope/x', '2')];
  const text = serializeLockfile(buildLockfile(pkgs));
  const back = validateLockfile(JSON.parse(text), 'pstore.lock');
  t.deepEqual(
    lockedPackages(back).sort((a, b) => (a.name < b.name ? -1 : 1)),
    [...pkgs].sort((a, b) => (a.name < b.name ? -1 : 1)),
  );
  t.is(serializeLockfile(back), text);
});

test('the id may be left out (it is derived); a wrong one is refused', (t) => {
  const p = locked('a');
  const raw = { lockfileVersion: 1, packages: { a: { version: '1.0', integrity: p.integrity } } };
  t.is(validateLockfile(raw, 'f').packages.a!.id, p.id);
  const wrong = {
    lockfileVersion: 1,
    packages: { a: { version: '1.0', integrity: p.integrity, id: locked('b').id } },
  };
  refuses(t, () => validateLockfile(wrong, 'f.lock'), 'EPSTORE_INVALID', 'f.lock');
});

test('malformed lockfiles are EPSTORE_INVALID naming the file', (t) => {
  const p = locked('a');
  const good = { version: '1.0', integrity: p.integrity };
  for (const raw of [
    null,
    [],
    'text',
    { packages: {} },
    { lockfileVersion: 2, packages: {} },
    { lockfileVersion: 1 },
    { lockfileVersion: 1, packages: [] },
    { lockfileVersion: 1, packages: { a: 'x' } },
    { lockfileVersion: 1, packages: { a: { ...good, version: '' } } },
    { lockfileVersion: 1, packages: { a: { ...good, integrity: 'sha256-abc' } } },
    { lockfileVersion: 1, packages: { a: { version: '1.0' } } },
  ]) {
    refuses(t, () => validateLockfile(raw, 'x.lock'), 'EPSTORE_INVALID', 'x.lock');
  }
});

test('readLockfile: a missing file is EPSTORE_NOT_FOUND, text that is not JSON EPSTORE_INVALID', async (t) => {
  const dir = await tempDir(t, 'lockfile-unit');
  const missing = path.join(dir, 'none.lock');
  await rejects(t, readLockfile(missing), 'EPSTORE_NOT_FOUND', missing);
  const garbage = path.join(dir, 'bad.lock');
  await fsp.writeFile(garbage, '{"lockfileVersion": 1, ');
  await rejects(t, readLockfile(garbage), 'EPSTORE_INVALID', garbage);
  const good = path.join(dir, 'good.lock');
  await fsp.writeFile(good, serializeLockfile(buildLockfile([locked('a')])));
  t.deepEqual(lockedPackages(await readLockfile(good)), [locked('a')]);
});
