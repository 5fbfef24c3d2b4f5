// `pstore export` and `pstore import`: a bundle carries entries, their manifests and every object
// they need; export is deterministic; import verifies every byte before anything enters the store,
// so a bundle damaged anywhere — a header, the descriptor, a manifest, an object, tar padding, the
// trailer, its length, its member list — is refused with exit 4 (EPSTORE_INTEGRITY) and the target
// store is exactly as it was.

import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { create as tarCreate } from 'tar';
import { openStore, writeLockfile } from '../../lib/index.js';
import { describe, jsonOut, storeCli, type CliResult } from '../_helpers/cli.js';
import { storeSnapshot } from '../_helpers/snapshot.js';
import { assertCleanStore, lsJson, objectFiles } from '../_helpers/store.js';
import { makeTemp, removeTree, tempDir } from '../_helpers/tmp.js';
import { file, symlink } from '../_helpers/tree.js';
import { casesFor } from '../_helpers/torture.js';
import { jsonError, listTree, stagePkg } from '../_helpers/txn-trees.js';

const BLOCK = 512;

let root: string;
let store: string;
let prefix: string;
let lockFile: string;
let bundleFile: string;
let bundle: Buffer;
let digest: string;
const ids = new Map<string, string>();

test.before(async () => {
  root = await makeTemp('bundle');
  store = path.join(root, 'store');
  prefix = path.join(root, 'prefix');
  const s = openStore({ path: store });
  // pkg0 and pkg1 share the copyright object; extras: an executable, symlinks, an empty directory
  const extra = {
    'usr/lib/libdemo.so.1': file('\x7fELF not really\n', 0o755),
    'usr/lib/libdemo.so': symlink('libdemo.so.1'),
    'usr/share/empty': {},
  };
  for (const [name, version] of [
    ['pkg0', '1.0'],
    ['pkg1', '1.0'],
    ['pkg1', '2.0'],
  ] as const) {
    const p = await stagePkg(path.join(root, 'staged'), name, {
      version,
      extra: name === 'pkg0' ? extra : {},
    });
    ids.set(`${name}@${version}`, (await s.add(p.dir, { name, version })).id);
  }
  // the prefix, its lockfile, the bundle and the prefix's digest through the library: setup, not
  // the contract under test (each CLI step is asserted by a test below)
  const p = s.prefix(prefix);
  await p.activate(['pkg0@1.0', 'pkg1@2.0']);
  lockFile = path.join(root, 'pstore.lock');
  await writeLockfile(lockFile, await p.lock());
  bundleFile = path.join(root, 'deps.pstore');
  await s.export(['pkg0@1.0', 'pkg1@2.0'], bundleFile);
  bundle = await fsp.readFile(bundleFile);
  digest = (await p.hash()).digest;
});

test.after.always(async () => {
  await removeTree(root);
});

// ---- a tar reader and writer of our own, to know where every byte of a bundle is -------------------

interface TarMember {
  path: string;
  /** offset of the member's own header (after any PAX header) */
  header: number;
  /** offset of the PAX extended header describing it, if any */
  pax?: number;
  data: number;
  size: number;
  typeflag: string;
}

interface TarMap {
  members: TarMember[];
  /** offset of the first end-of-archive block */
  end: number;
}

function field(h: Buffer, off: number, len: number): string {
  return h
    .subarray(off, off + len)
    .toString('utf8')
    .replace(/\0.*$/s, '');
}

function mapTar(buf: Buffer): TarMap {
  const members: TarMember[] = [];
  let off = 0;
  let pax: { at: number; path?: string } | undefined;
  while (off + BLOCK <= buf.length) {
    const h = buf.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) return { members, end: off };
    const size = parseInt(field(h, 124, 12).trim(), 8);
    const typeflag = String.fromCharCode(h[156]!);
    const data = off + BLOCK;
    if (typeflag === 'x') {
      const text = buf.subarray(data, data + size).toString('utf8');
      const found = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(text);
      pax = found ? { at: off, path: found[1]! } : { at: off };
    } else {
      const prefixField = field(h, 345, 155);
      const name =
        pax?.path ?? (prefixField ? `${prefixField}/${field(h, 0, 100)}` : field(h, 0, 100));
      members.push({
        path: name,
        header: off,
        ...(pax ? { pax: pax.at } : {}),
        data,
        size,
        typeflag,
      });
      pax = undefined;
    }
    off = data + Math.ceil(size / BLOCK) * BLOCK;
  }
  throw new Error('no end-of-archive marker');
}

interface Content {
  path: string;
  data: Buffer;
}

function contentsOf(buf: Buffer): Content[] {
  return mapTar(buf).members.map((m) => ({
    path: m.path,
    data: buf.subarray(m.data, m.data + m.size),
  }));
}

/**
 * Pack members the way `export` does (node-tar, portable, mtime 0, modes as the store has them),
 * from a staging directory: the same members give the same bytes, so a changed bundle differs from
 * a real one only where the test changed it. A path listed twice is packed twice.
 */
async function repack(
  t: ExecutionContext,
  members: readonly Content[],
  order?: readonly string[],
): Promise<Buffer> {
  const stage = await tempDir(t, 'repack');
  for (const m of members) {
    const p = path.join(stage, m.path);
    await fsp.mkdir(path.dirname(p), { recursive: true });
    await fsp.writeFile(p, m.data);
    const mode = m.path.startsWith('objects/')
      ? m.path.endsWith('-x')
        ? 0o555
        : 0o444
      : m.path.startsWith('entries/')
        ? 0o444
        : 0o644;
    await fsp.chmod(p, mode);
  }
  const out = path.join(stage, '..', `${path.basename(stage)}.tar`);
  t.teardown(() => fsp.rm(out, { force: true }));
  await tarCreate(
    { cwd: stage, file: out, portable: true, mtime: new Date(0), noDirRecurse: true },
    [...(order ?? members.map((m) => m.path))],
  );
  return fsp.readFile(out);
}

// ---- importing into a target store and checking that nothing happened -------------------------------

interface Target {
  store: string;
  /** entries and objects already there (empty for a fresh store) */
  before: Awaited<ReturnType<typeof storeSnapshot>>;
  entriesBefore: string[];
}

async function freshTarget(t: ExecutionContext): Promise<Target> {
  return { store: path.join(await tempDir(t, 'target'), 'store'), before: {}, entriesBefore: [] };
}

async function importBytes(
  t: ExecutionContext,
  target: Target,
  bytes: Buffer,
  label: string,
): Promise<CliResult> {
  const dir = await tempDir(t, 'bad-bundle');
  const f = path.join(dir, `${label.replace(/\W+/g, '-').slice(0, 60)}.pstore`);
  await fsp.writeFile(f, bytes);
  return storeCli(target.store)(['import', f, '--json']);
}

/** A refusal as import must refuse: exit 4, EPSTORE_INTEGRITY, and the target store as it was. */
async function refused(
  t: ExecutionContext,
  target: Target,
  r: CliResult,
  label: string,
): Promise<string[]> {
  const problems: string[] = [];
  if (r.code !== 4) {
    problems.push(
      `${label}: exit ${r.code} (${(r.stderr.trim().split('\n').pop() ?? '').slice(0, 200) || r.stdout.slice(0, 200)})`,
    );
  } else if (jsonError(r).code !== 'EPSTORE_INTEGRITY') {
    problems.push(`${label}: ${jsonError(r).code}`);
  }
  const snap = await storeSnapshot(target.store);
  const added = Object.keys(snap).filter((k) => !(k in target.before));
  const removed = Object.keys(target.before).filter((k) => !(k in snap));
  if (added.length || removed.length)
    problems.push(
      `${label}: the store changed (+${added.slice(0, 3).join(', ')} -${removed.slice(0, 3).join(', ')})`,
    );
  // what `ls` lists (through the library, in-process: a process per check would double the run time)
  const listed = (await openStore({ path: target.store }).list()).map((e) => e.id).sort();
  if (JSON.stringify(listed) !== JSON.stringify(target.entriesBefore))
    problems.push(`${label}: ls lists ${listed.join(', ')}`);
  if (!target.entriesBefore.length && (await objectFiles(target.store)).length)
    problems.push(`${label}: objects appeared`);
  return problems;
}

/**
 * Import each damaged bundle into its own fresh store; collect every case that was not refused.
 * With `quick` (labels of some cases), the default run imports only those and PSTORE_TORTURE=1
 * every case (each import is a process and a store).
 */
async function expectAllRefused(
  t: ExecutionContext,
  all: ReadonlyArray<[string, Buffer]>,
  quick?: readonly string[],
): Promise<void> {
  const labels = all.map(([label]) => label);
  const run = casesFor(labels, quick ?? labels);
  const cases = all.filter(([label]) => run.includes(label));
  t.true(cases.length > 0, 'cases to run');
  const problems = (
    await Promise.all(
      cases.map(async ([label, bytes]) => {
        const target = await freshTarget(t);
        return refused(t, target, await importBytes(t, target, bytes, label), label);
      }),
    )
  ).flat();
  t.deepEqual(
    problems,
    [],
    `every damaged bundle is refused with exit 4 and imports nothing (${cases.length} cases)`,
  );
}

// ---- the good path ------------------------------------------------------------------------------------

test('export → import into a fresh store → sync reproduces the prefix (same hash)', async (t) => {
  const dir = await tempDir(t, 'roundtrip');
  const other = path.join(dir, 'store');
  const cli = storeCli(other);
  const r = await cli(['import', bundleFile, '--json']);
  t.is(r.code, 0, describe(r));
  const res = jsonOut<{
    entries: Array<{ id: string; name: string; version: string }>;
    objectsImported: number;
    objectsPresent: number;
  }>(r);
  t.deepEqual(
    res.entries.map((e) => `${e.name}@${e.version}=${e.id}`).sort(),
    ['pkg0@1.0', 'pkg1@2.0'].map((ref) => `${ref}=${ids.get(ref)}`),
  );
  t.is(res.objectsPresent, 0);
  t.true(res.objectsImported > 0);
  await assertCleanStore(t, other);

  const synced = path.join(dir, 'prefix');
  const s = await cli(['sync', lockFile, '--prefix', synced, '--json']);
  t.is(s.code, 0, describe(s));
  const h = await cli(['hash', '--prefix', synced, '--json']);
  t.is(jsonOut<{ digest: string }>(h).digest, digest, 'the same digest as the original prefix');
  t.deepEqual(await listTree(synced), await listTree(prefix));

  // importing the same bundle again: nothing new, same entries
  const again = await cli(['import', bundleFile, '--json']);
  t.is(again.code, 0, describe(again));
  t.is(jsonOut<{ objectsImported: number }>(again).objectsImported, 0);
  t.is((await lsJson(t, other)).length, 2);
});

test('export is deterministic: same entries, same bytes (any ref order, any store, --lock)', async (t) => {
  const dir = await tempDir(t, 'determinism');
  const cli = storeCli(store);
  const a = path.join(dir, 'a.pstore');
  const b = path.join(dir, 'b.pstore');
  t.is((await cli(['export', 'pkg1@2.0', 'pkg0@1.0', '-o', a])).code, 0);
  t.is((await cli(['export', ids.get('pkg0@1.0')!, 'pkg1@2.0', '-o', b, '--json'])).code, 0);
  t.true((await fsp.readFile(a)).equals(bundle), 'refs in another order: byte-identical');
  t.true((await fsp.readFile(b)).equals(bundle), 'refs by id: byte-identical');

  const viaLock = path.join(dir, 'lock.pstore');
  const r = await cli(['export', '--lock', lockFile, '-o', viaLock, '--json']);
  t.is(r.code, 0, describe(r));
  const res = jsonOut<{
    file: string;
    entries: Array<{ id: string }>;
    objects: number;
    bytes: number;
  }>(r);
  t.is(res.file, viaLock);
  t.deepEqual(
    res.entries.map((e) => e.id).sort(),
    [ids.get('pkg0@1.0')!, ids.get('pkg1@2.0')!].sort(),
  );
  t.true(
    (await fsp.readFile(viaLock)).equals(bundle),
    'export --lock of the same set: byte-identical',
  );

  // from another store holding the same entries (imported), the same bytes again
  const other = path.join(dir, 'store');
  t.is((await storeCli(other)(['import', bundleFile])).code, 0);
  const fromOther = path.join(dir, 'other.pstore');
  t.is((await storeCli(other)(['export', '--lock', lockFile, '-o', fromOther])).code, 0);
  t.true(
    (await fsp.readFile(fromOther)).equals(bundle),
    'exported from another store: byte-identical',
  );

  // the member order is fixed: descriptor, manifests by id, objects by key
  const names = mapTar(bundle).members.map((m) => m.path);
  const entries = names.filter((n) => n.startsWith('entries/'));
  const objects = names.filter((n) => n.startsWith('objects/'));
  t.deepEqual(names, ['pstore-bundle.json', ...[...entries].sort(), ...[...objects].sort()]);
  t.is(res.objects, objects.length);
});

test('export: a ref or lockfile entry the store lacks is not found (exit 6), no bundle written', async (t) => {
  const dir = await tempDir(t, 'export-missing');
  const cli = storeCli(store);
  const out = path.join(dir, 'x.pstore');
  const r = await cli(['export', 'pkg0@1.0', 'nosuch@1.0', '-o', out, '--json']);
  t.is(r.code, 6, describe(r));
  const lock = JSON.parse(await fsp.readFile(lockFile, 'utf8')) as {
    packages: Record<string, unknown>;
  };
  const empty = path.join(dir, 'empty-store');
  const r2 = await storeCli(empty)(['export', '--lock', lockFile, '-o', out, '--json']);
  t.is(r2.code, 6, describe(r2));
  t.true(Object.keys(lock.packages).length > 0);
  t.deepEqual(
    await fsp.readdir(dir).then((xs) => xs.filter((x) => x.includes('x.pstore'))),
    [],
    'no bundle (nor temp) written',
  );
});

test('import from stdin (-) works', async (t) => {
  const other = path.join(await tempDir(t, 'stdin'), 'store');
  const r = await storeCli(other)(['import', '-', '--json'], { input: bundle });
  t.is(r.code, 0, describe(r));
  t.deepEqual(
    jsonOut<{ entries: Array<{ id: string }> }>(r)
      .entries.map((e) => e.id)
      .sort(),
    [ids.get('pkg0@1.0')!, ids.get('pkg1@2.0')!].sort(),
  );
  await assertCleanStore(t, other);
  // and damaged bytes on stdin are refused like a damaged file
  const bad = Buffer.from(bundle);
  const at = mapTar(bundle).members.at(-1)!.data;
  bad[at] = bad[at]! ^ 0x01;
  const target: Target = {
    store: path.join(await tempDir(t, 'stdin-bad'), 'store'),
    before: {},
    entriesBefore: [],
  };
  const r2 = await storeCli(target.store)(['import', '-', '--json'], { input: bad });
  t.deepEqual(await refused(t, target, r2, 'damaged object on stdin'), []);
});

test('importing a bundle file that does not exist: exit 6', async (t) => {
  const dir = await tempDir(t, 'nofile');
  const target = path.join(dir, 'store');
  const r = await storeCli(target)(['import', path.join(dir, 'nope.pstore'), '--json']);
  t.is(r.code, 6, describe(r));
  t.is(jsonError(r).code, 'EPSTORE_NOT_FOUND');
  t.deepEqual(await objectFiles(target), []);
});

test('our re-packer reproduces a bundle byte for byte (so the re-packed damage below is the only difference)', async (t) => {
  const again = await repack(t, contentsOf(bundle));
  t.true(again.equals(bundle), `re-packed ${again.length} bytes vs ${bundle.length}`);
  const target = await freshTarget(t);
  const r = await importBytes(t, target, again, 'repacked');
  t.is(r.code, 0, describe(r));
});

// ---- damage ---------------------------------------------------------------------------------------------

// the default run's flips: one of each kind of place (header fields of each member kind, PAX,
// contents, padding, trailer); PSTORE_TORTURE=1 flips every offset listed in the test
const QUICK_FLIPS = new Set([
  'pstore-bundle.json header byte 148',
  'pstore-bundle.json header byte 156',
  'pstore-bundle.json header byte 345',
  'PAX record length',
  'descriptor middle',
  'manifest last byte',
  'object 0 first byte',
  'pstore-bundle.json padding, last byte',
  'second end-of-archive block, first byte',
  'second end-of-archive block, last byte',
]);

test('one flipped byte anywhere (headers, descriptor, manifests, objects, padding, trailer): exit 4, nothing imported', async (t) => {
  const map = mapTar(bundle);
  const offsets = new Map<number, string>();
  const add = (off: number, what: string) => {
    if (off >= 0 && off < bundle.length && !offsets.has(off)) offsets.set(off, what);
  };
  const descriptor = map.members[0]!;
  const manifest = map.members.find((m) => m.path.startsWith('entries/'))!;
  const objects = map.members.filter((m) => m.path.startsWith('objects/'));
  const exec = objects.find((m) => m.path.endsWith('-x'))!;
  // headers: name, mode, size, mtime, checksum, typeflag, magic, uname, prefix, the unused tail
  for (const [m, fields] of [
    [descriptor, [0, 100, 124, 136, 148, 156, 257, 265, 345, 511]],
    [manifest, [1, 124, 150]],
    [exec, [100, 157]],
  ] as const) {
    for (const f of fields) add(m.header + f, `${m.path.slice(0, 24)} header byte ${f}`);
  }
  if (exec.pax !== undefined) {
    add(exec.pax + 0, 'PAX header name');
    add(exec.pax + BLOCK + 1, 'PAX record length');
    add(exec.pax + BLOCK + 20, 'PAX record path');
  }
  // contents
  add(descriptor.data, 'descriptor first byte');
  add(descriptor.data + Math.floor(descriptor.size / 2), 'descriptor middle');
  add(descriptor.data + descriptor.size - 1, 'descriptor trailing newline');
  add(manifest.data + 5, 'manifest start');
  add(manifest.data + Math.floor(manifest.size / 2), 'manifest middle');
  add(manifest.data + manifest.size - 1, 'manifest last byte');
  for (const [i, o] of objects.slice(0, 4).entries()) {
    add(o.data, `object ${i} first byte`);
    add(o.data + o.size - 1, `object ${i} last byte`);
  }
  // tar padding after member data
  for (const m of [descriptor, manifest, exec]) {
    if (m.size % BLOCK) {
      add(m.data + m.size, `${m.path.slice(0, 24)} padding, first byte`);
      add(
        m.data + Math.ceil(m.size / BLOCK) * BLOCK - 1,
        `${m.path.slice(0, 24)} padding, last byte`,
      );
    }
  }
  // the trailer: both end-of-archive blocks and whatever record padding follows
  add(map.end, 'first end-of-archive block, first byte');
  add(map.end + BLOCK - 1, 'first end-of-archive block, last byte');
  add(map.end + BLOCK, 'second end-of-archive block, first byte');
  add(map.end + 2 * BLOCK - 1, 'second end-of-archive block, last byte');
  add(bundle.length - 1, 'the very last byte');
  t.true(offsets.size >= 30 && offsets.size <= 48, `${offsets.size} offsets`);
  const named = new Set(offsets.values());
  t.deepEqual(
    [...QUICK_FLIPS].filter((what) => !named.has(what)),
    [],
    'each quick flip is an offset of its own (a shared offset keeps the first name)',
  );

  const label = (off: number, what: string) => `flip @${off} (${what})`;
  await expectAllRefused(
    t,
    [...offsets].map(([off, what]) => {
      const b = Buffer.from(bundle);
      b[off] = b[off]! ^ 0xff;
      return [label(off, what), b] as [string, Buffer];
    }),
    [...offsets].filter(([, what]) => QUICK_FLIPS.has(what)).map(([off, what]) => label(off, what)),
  );
});

test("the checksum field's terminator bytes (148+6, 148+7) are part of the bundle too: flipping them is refused", async (t) => {
  // node-tar parses the checksum with parseInt over the field and the checksum sums the field as
  // spaces, so these two bytes are read by nobody; a verifier of every byte must still notice them.
  const map = mapTar(bundle);
  const cases: Array<[string, Buffer]> = [];
  for (const m of [map.members[0]!, map.members.at(-1)!]) {
    for (const k of [154, 155]) {
      const b = Buffer.from(bundle);
      b[m.header + k] = b[m.header + k]! ^ 0xff;
      cases.push([`${m.path.slice(0, 24)} header byte ${k}`, b]);
    }
  }
  await expectAllRefused(t, cases);
});

test('a truncated bundle is refused wherever it is cut', async (t) => {
  const map = mapTar(bundle);
  const last = map.members.at(-1)!;
  const manifest = map.members.find((m) => m.path.startsWith('entries/'))!;
  const cuts: Array<[string, number, boolean?]> = [
    ['empty', 0, true],
    ['inside the first header', 100, true],
    ['after the first header', BLOCK],
    ['inside the descriptor', map.members[0]!.data + 10],
    ['at a member boundary (after the descriptor)', manifest.pax ?? manifest.header, true],
    ['inside a manifest', manifest.data + Math.floor(manifest.size / 2)],
    ['inside the last object', last.data + Math.max(1, Math.floor(last.size / 2)), true],
    ['inside the last padding', last.data + last.size + 1, true],
    ['before the end-of-archive blocks', map.end],
    ['after one of the two end-of-archive blocks', map.end + BLOCK, true],
    ['one byte short', bundle.length - 1, true],
  ];
  const label = (what: string, at: number) => `cut at ${at} (${what})`;
  await expectAllRefused(
    t,
    cuts.map(([what, at]) => [label(what, at), bundle.subarray(0, at)]),
    // default run: no bytes, inside a header, member data and padding, the trailer, one short
    cuts.filter(([, , quick]) => quick).map(([what, at]) => label(what, at)),
  );
});

test('re-packed with a member missing, swapped, added or duplicated: refused', async (t) => {
  const members = contentsOf(bundle);
  const objects = members.filter((m) => m.path.startsWith('objects/'));
  const manifests = members.filter((m) => m.path.startsWith('entries/'));
  t.true(manifests.length === 2 && objects.length >= 4);
  const without = (p: string) => members.filter((m) => m.path !== p);
  const cases: Array<[string, Buffer]> = [
    ['an object deleted', await repack(t, without(objects[1]!.path))],
    ['the last object deleted', await repack(t, without(objects.at(-1)!.path))],
    ['a manifest deleted', await repack(t, without(manifests[0]!.path))],
    ['the descriptor deleted', await repack(t, without('pstore-bundle.json'))],
    [
      "a manifest swapped for the other entry's",
      await repack(
        t,
        members.map((m) =>
          m.path === manifests[0]!.path ? { ...m, data: manifests[1]!.data } : m,
        ),
      ),
    ],
    [
      "an object's bytes swapped for another object's",
      await repack(
        t,
        members.map((m) => (m.path === objects[0]!.path ? { ...m, data: objects[1]!.data } : m)),
      ),
    ],
    [
      'an unexpected member',
      await repack(t, [...members, { path: 'README', data: Buffer.from('hello\n') }]),
    ],
    [
      'an unexpected member under objects/',
      await repack(t, [...members, { path: 'objects/not-a-key', data: Buffer.from('x') }]),
    ],
    [
      'a member duplicated (an object)',
      await repack(t, members, [...members.map((m) => m.path), objects[0]!.path]),
    ],
    [
      'a member duplicated (the descriptor)',
      await repack(t, members, [...members.map((m) => m.path), 'pstore-bundle.json']),
    ],
  ];
  await expectAllRefused(t, cases, [
    'an object deleted',
    'the descriptor deleted',
    "a manifest swapped for the other entry's",
    'an unexpected member under objects/',
    'a member duplicated (an object)',
  ]);
});

test('an object no manifest names is an unexpected member: refused, nothing imported', async (t) => {
  // export writes exactly the objects the manifests name; a well-formed, correctly hash-named extra
  // object is still not part of any entry, and importing it would put an unreferenced blob in the store
  const data = Buffer.from('smuggled bytes\n');
  const key = createHash('sha512').update(data).digest('hex');
  const members = contentsOf(bundle);
  const objects = members.filter((m) => m.path.startsWith('objects/'));
  const extra = { path: `objects/${key}`, data };
  const sorted = [
    ...members.filter((m) => !m.path.startsWith('objects/')),
    ...[...objects, extra].sort((a, b) => (a.path < b.path ? -1 : 1)),
  ];
  await expectAllRefused(t, [
    ['an unreferenced object', await repack(t, sorted)],
    [
      'an unreferenced executable object',
      await repack(t, [...members, { path: `objects/${key}-x`, data }]),
    ],
  ]);
});

test('a damaged bundle leaves a store that already has content exactly as it was', async (t) => {
  // the target already holds pkg1@1.0, which shares the copyright object with the bundle's entries
  const dir = await tempDir(t, 'populated');
  const target: Target = { store: path.join(dir, 'store'), before: {}, entriesBefore: [] };
  const staged = await stagePkg(path.join(dir, 'staged'), 'pkg1', { version: '1.0' });
  const r0 = await storeCli(target.store)([
    'add',
    staged.dir,
    '--name',
    'pkg1',
    '--version',
    '1.0',
  ]);
  t.is(r0.code, 0, describe(r0));
  target.before = await storeSnapshot(target.store);
  target.entriesBefore = [ids.get('pkg1@1.0')!];
  const map = mapTar(bundle);
  const last = map.members.at(-1)!;
  const problems: string[] = [];
  for (const [label, bytes] of [
    [
      'last object flipped',
      (() => {
        const b = Buffer.from(bundle);
        b[last.data] = b[last.data]! ^ 1;
        return b;
      })(),
    ],
    ['cut inside the last object', bundle.subarray(0, last.data + 1)],
    [
      'trailer flipped',
      (() => {
        const b = Buffer.from(bundle);
        b[bundle.length - 1] = b[bundle.length - 1]! ^ 1;
        return b;
      })(),
    ],
  ] as const) {
    problems.push(...(await refused(t, target, await importBytes(t, target, bytes, label), label)));
  }
  t.deepEqual(problems, []);
  t.deepEqual(await storeSnapshot(target.store), target.before);
});
