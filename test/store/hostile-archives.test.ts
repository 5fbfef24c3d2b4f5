// Hostile and broken sources: each is refused with exit 7 and a precise EPSTORE_* code naming the
// offending member, records no entry, and leaves nothing behind that gc does not remove.

import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import test, { type ExecutionContext } from 'ava';
import { isPstoreError, openStore, type ErrorCode } from '../../lib/index.js';
import { describe, storeCli, type CliResult } from '../_helpers/cli.js';
import { diffSnapshots, storeSnapshot } from '../_helpers/snapshot.js';
import { addAndListPaths, objectFiles } from '../_helpers/store.js';
import {
  BLOCK,
  buildTar,
  buildTarLayout,
  gzip,
  writeChecksum,
  type Member,
} from '../_helpers/tar.js';
import { buildTree, fifo, file, socket, symlink, type TreeSpec } from '../_helpers/tree.js';
import { makeTemp, removeTree, tempDir, tempStore } from '../_helpers/tmp.js';
import { casesFor } from '../_helpers/torture.js';

/** Good members that come first, so the failed add has written objects that gc must remove. */
function good(tag: string): Member[] {
  return [
    { path: 'ok/', type: 'dir' },
    { path: 'ok/one.txt', data: 'first good member of shared\n' },
    { path: 'ok/own.txt', data: `own member of ${tag}\n` },
    { path: 'ok/two.bin', data: Buffer.alloc(3000, tag.length), mode: 0o755 },
  ];
}

interface StoreState {
  store: string;
  snapshot: Awaited<ReturnType<typeof storeSnapshot>>;
  listed: unknown[];
}

// One seeded store, copied for each test: a store that already holds an entry, so that
// "unchanged" means something. Copying is much cheaper than seeding each store with the CLI.
let template: {
  root: string;
  store: string;
  snapshot: Awaited<ReturnType<typeof storeSnapshot>>;
  listed: unknown[];
};

test.before(async () => {
  const root = await makeTemp('hostile-template');
  const store = path.join(root, 'store');
  const src = await buildTree(path.join(root, 'tree'), {
    'bin/tool': file('tool\n', 0o755),
    'share/doc/README': 'seed entry\n',
    // the same bytes as a good() member, so some objects of a hostile add already exist
    'ok/one.txt': 'first good member of shared\n',
  });
  const r = await storeCli(store)(['add', src, '--name', 'seed', '--version', '1', '--json']);
  if (r.code !== 0) throw new Error(describe(r));
  const listed = await openStore({ path: store }).list();
  if (listed.length !== 1) throw new Error('seed store should list one entry');
  template = { root, store, snapshot: await storeSnapshot(store), listed };
});

test.after.always(async () => {
  if (template) await removeTree(template.root);
});

async function seededStore(t: ExecutionContext): Promise<StoreState> {
  const store = await tempStore(t);
  await fsp.cp(template.store, store, { recursive: true, preserveTimestamps: true });
  const state = { store, snapshot: await storeSnapshot(store), listed: template.listed };
  t.deepEqual(state.snapshot, template.snapshot, 'the copy is faithful');
  return state;
}

/** Everything a refused add must leave true of the store. */
async function assertUntouched(t: ExecutionContext, state: StoreState): Promise<void> {
  const { store } = state;
  const diff = diffSnapshots(state.snapshot, await storeSnapshot(store));
  t.deepEqual(diff.removed, [], 'nothing was removed from the store');
  t.deepEqual(diff.changed, [], 'nothing in the store was modified');
  t.deepEqual(
    diff.added.filter((p) => !p.startsWith('objects-v1/') && !p.startsWith('tmp/')),
    [],
    'only unreferenced objects or tmp files may be new (no manifest)',
  );
  // ls and gc through the library: the refused add is the CLI step under test here
  const opened = openStore({ path: store });
  t.deepEqual(await opened.list(), state.listed, 'the store lists no new entry');
  await opened.gc();
  t.deepEqual(
    await storeSnapshot(store),
    state.snapshot,
    'after gc the store is exactly as before',
  );
}

function assertRefused(t: ExecutionContext, r: CliResult, code: ErrorCode, names: string): void {
  t.is(r.code, 7, describe(r));
  t.is(r.stdout, '', 'nothing on stdout');
  const lines = r.stderr.split('\n').filter(Boolean);
  t.is(lines.length, 1, `one error line on stderr:\n${r.stderr}`);
  t.true(lines[0]!.startsWith(`pstore: ${code}: `), `stderr has the code ${code}:\n${r.stderr}`);
  t.true(r.stderr.includes(names), `stderr names ${JSON.stringify(names)}:\n${r.stderr}`);
}

function assertJsonRefused(
  t: ExecutionContext,
  r: CliResult,
  code: ErrorCode,
  subject: string,
): void {
  t.is(r.code, 7, describe(r));
  const lines = r.stderr.split('\n').filter(Boolean);
  t.is(lines.length, 1, `one JSON line on stderr:\n${r.stderr}`);
  const parsed = JSON.parse(lines[0]!) as {
    error: { code: string; subject?: string; message: string };
  };
  t.is(parsed.error.code, code);
  t.is(parsed.error.subject, subject, 'error.subject is the offending member');
}

interface ArchiveCase {
  title: string;
  /** archive bytes */
  bytes: () => Buffer;
  ext?: string;
  code: ErrorCode;
  /** the offending member; undefined = the archive itself (its path) */
  member?: string;
}

const cases: ArchiveCase[] = [
  {
    title: 'a member named ../x',
    bytes: () => buildTar([...good('dotdot'), { path: '../x', data: 'escape\n' }]),
    code: 'EPSTORE_UNSAFE_PATH',
    member: '../x',
  },
  {
    title: 'a member named a/../../x',
    bytes: () =>
      buildTar([
        ...good('nested dotdot'),
        { path: 'a/', type: 'dir' },
        { path: 'a/../../x', data: 'escape\n' },
      ]),
    code: 'EPSTORE_UNSAFE_PATH',
    member: 'a/../../x',
  },
  {
    title: 'an absolute member /etc/x',
    bytes: () => buildTar([...good('absolute'), { path: '/etc/x', data: 'root me\n' }]),
    code: 'EPSTORE_UNSAFE_PATH',
    member: '/etc/x',
  },
  {
    title: 'a member under a symlink of the same archive (lib -> /tmp, lib/evil)',
    bytes: () =>
      buildTar([
        ...good('abs symlink'),
        { path: 'lib', type: 'symlink', linkpath: '/tmp' },
        { path: 'lib/evil', data: 'planted\n' },
      ]),
    code: 'EPSTORE_UNSAFE_PATH',
    member: 'lib/evil',
  },
  {
    title: 'a directory member under a symlink of the same archive (lib -> /tmp, lib/sub/)',
    bytes: () =>
      buildTar([
        ...good('dir under symlink'),
        { path: 'lib', type: 'symlink', linkpath: '/tmp' },
        { path: 'lib/sub/', type: 'dir' },
      ]),
    code: 'EPSTORE_UNSAFE_PATH',
    member: 'lib/sub',
  },
  {
    title: 'a member under a relative symlink (a -> b, a/x)',
    bytes: () =>
      buildTar([
        ...good('rel symlink'),
        { path: 'b/', type: 'dir' },
        { path: 'a', type: 'symlink', linkpath: 'b' },
        { path: 'a/x', data: 'through\n' },
      ]),
    code: 'EPSTORE_UNSAFE_PATH',
    member: 'a/x',
  },
  {
    title: 'a hard link to ../outside',
    bytes: () =>
      buildTar([...good('hardlink dotdot'), { path: 'h', type: 'link', linkpath: '../outside' }]),
    code: 'EPSTORE_UNSAFE_PATH',
    member: 'h',
  },
  {
    title: 'a hard link to an absolute path',
    bytes: () =>
      buildTar([
        ...good('hardlink abs'),
        { path: 'passwd', type: 'link', linkpath: '/etc/passwd' },
      ]),
    code: 'EPSTORE_UNSAFE_PATH',
    member: 'passwd',
  },
  {
    title: 'a hard link to a name not in the archive',
    bytes: () =>
      buildTar([...good('hardlink missing'), { path: 'h', type: 'link', linkpath: 'ok/nowhere' }]),
    code: 'EPSTORE_UNSAFE_PATH',
    member: 'h',
  },
  {
    title: 'a hard link to a directory of the archive',
    bytes: () => buildTar([...good('hardlink dir'), { path: 'h', type: 'link', linkpath: 'ok' }]),
    code: 'EPSTORE_UNSAFE_PATH',
    member: 'h',
  },
  {
    title: 'a character device',
    bytes: () =>
      buildTar([
        ...good('chr'),
        { path: 'dev/null', type: 'chr', mode: 0o666, devmajor: 1, devminor: 3 },
      ]),
    code: 'EPSTORE_UNSUPPORTED_TYPE',
    member: 'dev/null',
  },
  {
    title: 'a block device',
    bytes: () =>
      buildTar([
        ...good('blk'),
        { path: 'dev/sda', type: 'blk', mode: 0o660, devmajor: 8, devminor: 0 },
      ]),
    code: 'EPSTORE_UNSUPPORTED_TYPE',
    member: 'dev/sda',
  },
  {
    title: 'a FIFO',
    bytes: () => buildTar([...good('fifo'), { path: 'run/pipe', type: 'fifo', mode: 0o644 }]),
    code: 'EPSTORE_UNSUPPORTED_TYPE',
    member: 'run/pipe',
  },
  {
    title: 'a duplicate path with different contents',
    bytes: () =>
      buildTar([
        ...good('dup'),
        { path: 'etc/conf', data: 'one\n' },
        { path: 'etc/conf', data: 'two\n' },
      ]),
    code: 'EPSTORE_BAD_ARCHIVE',
    member: 'etc/conf',
  },
  {
    title: 'a file, then a directory at the same path',
    bytes: () =>
      buildTar([
        ...good('file then dir'),
        { path: 'x', data: 'file\n' },
        { path: 'x/', type: 'dir' },
      ]),
    code: 'EPSTORE_BAD_ARCHIVE',
    member: 'x',
  },
  {
    title: 'a path under a regular file',
    bytes: () =>
      buildTar([
        ...good('under file'),
        { path: 'f', data: 'plain\n' },
        { path: 'f/x', data: 'below a file\n' },
      ]),
    code: 'EPSTORE_BAD_ARCHIVE',
    member: 'f/x',
  },
  {
    title: 'a truncated archive cut in the middle of a body',
    bytes: () => {
      const { bytes, headers } = buildTarLayout([
        ...good('cut body'),
        { path: 'big.txt', data: 'z'.repeat(5000) },
      ]);
      return bytes.subarray(0, headers[3]! + BLOCK + 1700);
    },
    code: 'EPSTORE_BAD_ARCHIVE',
  },
  {
    title: 'a truncated archive cut at a block boundary without the end marker',
    bytes: () =>
      buildTar([...good('cut boundary'), { path: 'last.txt', data: 'last\n' }], {
        endMarker: false,
      }),
    code: 'EPSTORE_BAD_ARCHIVE',
  },
  {
    title: 'a truncated archive cut in the middle of a header',
    bytes: () => {
      const { bytes, headers } = buildTarLayout([
        ...good('cut header'),
        { path: 'last.txt', data: 'last\n' },
      ]);
      return bytes.subarray(0, headers[3]! + 200);
    },
    code: 'EPSTORE_BAD_ARCHIVE',
  },
  {
    title: 'a corrupt header checksum',
    bytes: () => {
      const { bytes, headers } = buildTarLayout([
        ...good('checksum'),
        { path: 'victim.txt', data: 'v\n' },
        { path: 'after.txt', data: 'a\n' },
      ]);
      const h = headers[3]!;
      bytes[h] = 'w'.charCodeAt(0); // victim.txt -> wictim.txt, checksum left as it was
      return bytes;
    },
    code: 'EPSTORE_BAD_ARCHIVE',
  },
  {
    title: 'a header whose checksum field is not a number',
    bytes: () => {
      const { bytes, headers } = buildTarLayout([
        ...good('checksum garbage'),
        { path: 'victim.txt', data: 'v\n' },
      ]);
      const h = headers[3]!;
      bytes.write('zzzzzz\0 ', h + 148, 'latin1');
      return bytes;
    },
    code: 'EPSTORE_BAD_ARCHIVE',
  },
  {
    title: 'a text file that is not an archive',
    bytes: () => Buffer.from('this is not a tar archive\n'.repeat(100)),
    code: 'EPSTORE_BAD_ARCHIVE',
  },
  {
    title: 'an empty file',
    bytes: () => Buffer.alloc(0),
    code: 'EPSTORE_BAD_ARCHIVE',
  },
  {
    title: 'a truncated .tar.gz',
    bytes: () => {
      const gz = gzip(
        buildTar([
          ...good('gz'),
          {
            path: 'data.bin',
            data: Buffer.from(Array.from({ length: 20000 }, (_, i) => (i * 7919) % 251)),
          },
        ]),
      );
      return gz.subarray(0, Math.floor(gz.length / 2));
    },
    ext: '.tar.gz',
    code: 'EPSTORE_BAD_ARCHIVE',
  },
  {
    // The cut falls inside a member above the 8 MiB streaming threshold: the streamed write must
    // be failed too, not left waiting for bytes that never come (which once exited 0, silently).
    title: 'a truncated .tar.gz cut inside a >8 MiB member',
    bytes: () => {
      const gz = gzip(
        buildTar([...good('gz big'), { path: 'big.bin', data: randomBytes(10 * 1024 * 1024) }]),
      );
      return gz.subarray(0, Math.floor(gz.length * 0.6));
    },
    ext: '.tar.gz',
    code: 'EPSTORE_BAD_ARCHIVE',
  },
  {
    title: 'a zstd frame that does not decompress',
    bytes: () =>
      Buffer.concat([
        Buffer.from([0x28, 0xb5, 0x2f, 0xfd]),
        Buffer.from('definitely not a zstd frame body'.repeat(20)),
      ]),
    ext: '.tar.zst',
    code: 'EPSTORE_BAD_ARCHIVE',
  },
  {
    title: 'a symlink member with an empty target',
    bytes: () =>
      buildTar([...good('empty target'), { path: 'lib/broken', type: 'symlink', linkpath: '' }]),
    code: 'EPSTORE_BAD_ARCHIVE', // node-tar itself refuses it ("linkpath required"), naming no member
  },
  {
    title: 'a non-directory member naming the root (.)',
    bytes: () => buildTar([...good('root file'), { path: '.', type: 'file', data: 'x' }]),
    code: 'EPSTORE_BAD_ARCHIVE',
    member: '.',
  },
  {
    title: 'a .tar.gz whose tar is hostile (../x)',
    bytes: () => gzip(buildTar([...good('gz dotdot'), { path: '../x', data: 'escape\n' }])),
    ext: '.tgz',
    code: 'EPSTORE_UNSAFE_PATH',
    member: '../x',
  },
];

// Every case is refused in --json (where the subject is exact). The human error line is checked
// for the first case of each code by default, for every case under PSTORE_TORTURE=1: it is the
// same formatter for every case of one code.
const FORMS = ['human', 'json'] as const;
const firstOfCode = new Map<ErrorCode, ArchiveCase>();
for (const c of cases) if (!firstOfCode.has(c.code)) firstOfCode.set(c.code, c);

for (const c of cases) {
  const forms = casesFor(FORMS, firstOfCode.get(c.code) === c ? FORMS : ['json']);
  test(`archive: ${c.title}`, async (t) => {
    const state = await seededStore(t);
    const dir = await tempDir(t, 'hostile');
    const archive = path.join(dir, `hostile${c.ext ?? '.tar'}`);
    await fsp.writeFile(archive, c.bytes());
    const cli = storeCli(state.store);
    const args = ['add', archive, '--name', 'evil', '--version', '1'];

    if (forms.includes('human')) assertRefused(t, await cli(args), c.code, c.member ?? archive);
    const json = await cli([...args, '--json']);
    assertJsonRefused(t, json, c.code, c.member ?? archive);
    await assertUntouched(t, state);
  });
}

test('stdin: a hostile archive on stdin (-) is refused the same way', async (t) => {
  const state = await seededStore(t);
  const bytes = buildTar([
    ...good('stdin'),
    { path: 'lib', type: 'symlink', linkpath: '/tmp' },
    { path: 'lib/evil', data: 'planted\n' },
  ]);
  const r = await storeCli(state.store)(['add', '-', '--name', 'evil', '--version', '1'], {
    input: bytes,
  });
  assertRefused(t, r, 'EPSTORE_UNSAFE_PATH', 'lib/evil');
  const truncated = await storeCli(state.store)(
    ['add', '-', '--name', 'evil', '--version', '1', '--json'],
    { input: bytes.subarray(0, 2 * BLOCK + 100) },
  );
  t.is(truncated.code, 7, describe(truncated));
  t.is(
    (JSON.parse(truncated.stderr) as { error: { code: string } }).error.code,
    'EPSTORE_BAD_ARCHIVE',
  );
  await assertUntouched(t, state);
});

// A good archive written by the same generator is accepted: the refusals above are about the
// hostile members, not about the generator.
test("control: the generator's good members alone make a valid archive", async (t) => {
  const store = await tempStore(t);
  const archive = path.join(await tempDir(t, 'good'), 'good.tar');
  await fsp.writeFile(
    archive,
    buildTar([
      ...good('control'),
      { path: 'b/', type: 'dir' },
      { path: 'a', type: 'symlink', linkpath: 'b' },
      { path: 'h', type: 'link', linkpath: 'ok/one.txt' },
    ]),
  );
  const r = await storeCli(store)(['add', archive, '--name', 'fine', '--version', '1', '--json']);
  t.is(r.code, 0, describe(r));
  t.like(JSON.parse(r.stdout), { files: 4, symlinks: 1, dirs: 2 });
});

interface DirCase {
  title: string;
  spec: TreeSpec;
  bad: string;
}

const dirCases: DirCase[] = [
  {
    title: 'a FIFO',
    spec: { 'a.txt': 'a\n', run: { pipe: fifo() }, 'z.txt': 'z\n' },
    bad: 'run/pipe',
  },
  { title: 'a unix socket', spec: { 'a.txt': 'a\n', run: { sock: socket() } }, bad: 'run/sock' },
];

for (const c of dirCases) {
  test(`directory: a source directory containing ${c.title}`, async (t) => {
    const state = await seededStore(t);
    const src = await buildTree(path.join(await tempDir(t, 'dirsrc'), 'tree'), c.spec);
    const cli = storeCli(state.store);
    const abs = path.join(src, c.bad);
    const human = await cli(['add', src, '--name', 'evil', '--version', '1']);
    assertRefused(t, human, 'EPSTORE_UNSUPPORTED_TYPE', abs);
    const json = await cli(['add', src, '--name', 'evil', '--version', '1', '--json']);
    assertJsonRefused(t, json, 'EPSTORE_UNSUPPORTED_TYPE', abs);
    await assertUntouched(t, state);
  });
}

test('directory: a symlink in a source directory is stored as a symlink, never followed', async (t) => {
  const store = await tempStore(t);
  const src = await buildTree(path.join(await tempDir(t, 'dirsrc'), 'tree'), {
    etc: symlink('/etc'),
    passwd: symlink('/etc/passwd'),
  });
  const r = await storeCli(store)(['add', src, '--name', 'links', '--version', '1', '--json']);
  t.is(r.code, 0, describe(r));
  t.like(JSON.parse(r.stdout), { files: 0, symlinks: 2 });
  t.deepEqual(await objectFiles(store), [], 'nothing was read through the links');
});

test('library: unsafe paths throw PstoreError EPSTORE_UNSAFE_PATH naming the member', async (t) => {
  const store = openStore({ path: await tempStore(t) });

  const fromList = await t.throwsAsync(
    store.add(
      {
        files: [
          { path: 'ok.txt', data: 'ok' },
          { path: '../x', data: 'x' },
        ],
      },
      { name: 'evil', version: '1' },
    ),
  );
  t.true(isPstoreError(fromList, 'EPSTORE_UNSAFE_PATH'), String(fromList));
  t.is((fromList as { subject?: string }).subject, '../x');
  t.false(isPstoreError(fromList, 'EPSTORE_BAD_ARCHIVE'), 'the code check is exact');

  const stream = Readable.from([buildTar([...good('lib'), { path: '/etc/x', data: 'x' }])]);
  const fromTar = await t.throwsAsync(
    store.add({ tar: stream, label: 'test stream' }, { name: 'evil', version: '1' }),
  );
  t.true(isPstoreError(fromTar, 'EPSTORE_UNSAFE_PATH'), String(fromTar));
  t.is((fromTar as { subject?: string }).subject, '/etc/x');

  const underLink = await t.throwsAsync(
    store.add(
      {
        files: [
          { path: 'l', type: 'symlink', target: '/tmp' },
          { path: 'l/x', data: 'x' },
        ],
      },
      { name: 'evil', version: '1' },
    ),
  );
  t.true(isPstoreError(underLink, 'EPSTORE_UNSAFE_PATH'), String(underLink));

  t.deepEqual(await store.list(), [], 'no entry was recorded');
});

test('library: broken archives throw EPSTORE_BAD_ARCHIVE', async (t) => {
  const store = openStore({ path: await tempStore(t) });
  const bytes = buildTar(good('lib bad'), { endMarker: false });
  const err = await t.throwsAsync(
    store.add({ tar: Readable.from([bytes]), label: 'cut stream' }, { name: 'evil', version: '1' }),
  );
  t.true(isPstoreError(err, 'EPSTORE_BAD_ARCHIVE'), String(err));
  t.true(String((err as Error).message).includes('cut stream'));
});

// Keep the header helper honest: a checksum it writes is one node-tar and GNU tar accept.
test('control: a header with a recomputed checksum after editing is accepted again', async (t) => {
  const store = await tempStore(t);
  const { bytes, headers } = buildTarLayout([{ path: 'victim.txt', data: 'v\n' }]);
  bytes[headers[0]!] = 'w'.charCodeAt(0);
  writeChecksum(bytes.subarray(headers[0]!, headers[0]! + BLOCK));
  const archive = path.join(await tempDir(t, 'cks'), 'fixed.tar');
  await fsp.writeFile(archive, bytes);
  const paths = await addAndListPaths(t, store, archive, 'fixed');
  t.deepEqual(
    paths.map((p) => p.path),
    ['wictim.txt'],
  );
});
