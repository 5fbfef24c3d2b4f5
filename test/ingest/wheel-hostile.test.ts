// Hostile wheels and inputs that are not what they claim: each refused with its code and exit
// status, naming the member or file, and nothing in the store (it is never even created).

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { describe, storeCli } from '../_helpers/cli.js';
import { tempDir } from '../_helpers/tmp.js';
import { buildWheel, type WheelSpec } from '../_helpers/wheels.js';

const BASE: WheelSpec = { name: 'evil', version: '1', files: { 'evil/__init__.py': 'X = 1\n' } };

const CASES: Array<[string, Partial<WheelSpec>, number, string, RegExp]> = [
  [
    'altered file',
    { tamper: { 'evil/__init__.py': 'X = 2\n' } },
    4,
    'EPSTORE_INTEGRITY',
    /evil\/__init__\.py/,
  ],
  [
    'RECORD hash mismatch',
    {
      record: (rows) =>
        rows.map((r) => (r[0] === 'evil/__init__.py' ? [r[0], 'sha256=AAAA', r[2]!] : r)),
    },
    4,
    'EPSTORE_INTEGRITY',
    /evil\/__init__\.py/,
  ],
  [
    'member not in RECORD',
    { extra: [{ name: 'evil/unlisted.py', data: 'x' }] },
    4,
    'EPSTORE_INTEGRITY',
    /unlisted/,
  ],
  [
    'RECORD entry with no file',
    { record: (rows) => [...rows, ['evil/ghost.py', 'sha256=AAAA', '1']] },
    4,
    'EPSTORE_INTEGRITY',
    /ghost/,
  ],
  [
    '../ member',
    { extra: [{ name: '../escape.py', data: 'x' }] },
    7,
    'EPSTORE_UNSAFE_PATH',
    /escape/,
  ],
  [
    'absolute member',
    { extra: [{ name: '/etc/evil.conf', data: 'x' }] },
    7,
    'EPSTORE_UNSAFE_PATH',
    /etc\/evil/,
  ],
  [
    'overlong name',
    { extra: [{ name: `evil/${'n'.repeat(300)}.py`, data: 'x' }] },
    7,
    'EPSTORE_UNSAFE_PATH',
    /nnnn/,
  ],
  [
    'duplicate member',
    { extra: [{ name: 'evil/__init__.py', data: 'X = 1\n' }] },
    7,
    'EPSTORE_BAD_ARCHIVE',
    /twice/,
  ],
  [
    'wrong tags (cp312)',
    { tag: 'cp312-cp312-manylinux_2_17_x86_64' },
    7,
    'EPSTORE_INVALID',
    /cp312/,
  ],
  ['foreign platform', { tag: 'py3-none-macosx_11_0_arm64' }, 7, 'EPSTORE_INVALID', /macosx/],
  ['Wheel-Version 2.0', { wheelVersion: '2.0' }, 7, 'EPSTORE_INVALID', /Wheel-Version 2\.0/],
  ['zip that is not a wheel', { noDistInfo: true }, 7, 'EPSTORE_BAD_ARCHIVE', /no \.dist-info/],
  [
    // twice the size below which the ratio is not checked (8 MiB), inflating ~1000 times
    'zip bomb (16 MiB of zeros)',
    { files: { 'evil/__init__.py': 'X = 1\n', 'evil/zeros.bin': Buffer.alloc(16 * 1024 * 1024) } },
    7,
    'EPSTORE_BAD_ARCHIVE',
    /zip bomb/,
  ],
];

for (const [what, tweak, exit, code, mentions] of CASES) {
  test(`hostile wheel: ${what} → exit ${exit} ${code}, nothing stored`, async (t) => {
    const dir = await tempDir(t, 'hostile');
    const wheel = buildWheel(dir, { ...BASE, ...tweak });
    const store = path.join(dir, 'store');
    const r = await storeCli(store)(['add', wheel, '--json']);
    t.is(r.code, exit, describe(r));
    const error = (
      JSON.parse(r.stderr) as { error: { code: string; message: string; subject: string } }
    ).error;
    t.is(error.code, code, describe(r));
    t.regex(`${error.message} ${error.subject}`, mentions);
    t.false(existsSync(store), 'the store was not even created');
  });
}

test('--ignore-tags installs a wheel built for another interpreter', async (t) => {
  const dir = await tempDir(t, 'tags');
  const wheel = buildWheel(dir, { ...BASE, tag: 'cp312-cp312-manylinux_2_17_x86_64' });
  const r = await storeCli(path.join(dir, 'store'))(['add', wheel, '--ignore-tags', '-q']);
  t.is(r.code, 0, describe(r));
  t.is(r.stdout, '');
});

test('compatible tags are accepted: abi3, manylinux, compressed tag sets', async (t) => {
  const dir = await tempDir(t, 'oktags');
  const cli = storeCli(path.join(dir, 'store'));
  for (const tag of [
    'cp37-abi3-manylinux_2_17_x86_64',
    'py2.py3-none-any',
    'py30-none-linux_x86_64',
  ]) {
    const wheel = buildWheel(path.join(dir), {
      ...BASE,
      version: tag.length.toString() + tag[2],
      tag,
    });
    const r = await cli(['add', wheel, '-q']);
    t.is(r.code, 0, `${tag}\n${describe(r)}`);
  }
});

/** Declare `size` bytes for `member` in the zip's central directory and local header (a lie). */
const UNDERSTATE = String.raw`
import struct, sys
path, member, size = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3])
data = bytearray(open(path, 'rb').read())
for sig, off in ((b'PK\x01\x02', 24), (b'PK\x03\x04', 22)):
    at = data.find(sig)
    while at != -1:
        name_at = at + (46 if sig == b'PK\x01\x02' else 30)
        if data[name_at:name_at + len(member)] == member:
            struct.pack_into('<I', data, at + off, size)
        at = data.find(sig, at + 4)
open(path, 'wb').write(data)
`;

// The declared size rewritten in both headers: below the member's bytes (it inflates past it) and
// above them (it inflates short). Either way the member is refused.
for (const [how, declared] of [
  ['past', 1000],
  ['short of', 4 * 1024 * 1024 + 1000],
] as const) {
  test(`hostile wheel: a member that inflates ${how} its declared size → exit 7 EPSTORE_BAD_ARCHIVE, nothing stored`, async (t) => {
    const dir = await tempDir(t, 'liar');
    const zeros = 'evil/zeros.bin';
    const wheel = buildWheel(dir, {
      ...BASE,
      files: { ...BASE.files, [zeros]: Buffer.alloc(4 * 1024 * 1024) },
    });
    execFileSync('python3', ['-c', UNDERSTATE, wheel, zeros, String(declared)]);
    const store = path.join(dir, 'store');
    const r = await storeCli(store)(['add', wheel, '--json']);
    t.is(r.code, 7, describe(r));
    const error = (JSON.parse(r.stderr) as { error: { code: string; subject: string } }).error;
    t.is(error.code, 'EPSTORE_BAD_ARCHIVE');
    t.is(error.subject, zeros);
    t.false(existsSync(store), 'the store was not even created');
  });
}
