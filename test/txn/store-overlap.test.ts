// Stores and prefixes never overlap (issue 7, class 2). A prefix that is the store, lies inside it
// (tmp/ included), or lies inside pstore's state of another prefix (`P/.pstore`, a generations
// prefix's trees, reached through its symlink or directly) is refused: exit 7, EPSTORE_UNSAFE_PATH
// naming both paths, nothing created. A prefix that contains the store (`~/.local` with the default
// store `~/.local/share/pstore`) is allowed, but no package path may fall inside the store (exit 3,
// nothing changed), and an object is only trusted once pstore has hashed it: a planted object at
// the key of genuine content is replaced when that content is added.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { describe, jsonOut, storeCli } from '../_helpers/cli.js';
import { snapshotDir, storeSnapshot } from '../_helpers/snapshot.js';
import { assertCleanStore, objectFiles, objectPathOf } from '../_helpers/store.js';
import { tempDir } from '../_helpers/tmp.js';
import { buildTree, sha512Integrity } from '../_helpers/tree.js';
import { exists, jsonError, listTree } from '../_helpers/txn-trees.js';

/** A home directory with the store at its default place, `~/.local/share/pstore`, and one entry. */
async function home(t: ExecutionContext) {
  const dir = await tempDir(t, 'overlap');
  const local = path.join(dir, 'home', '.local');
  const store = path.join(local, 'share', 'pstore');
  const cli = storeCli(store);
  const src = await buildTree(path.join(dir, 'src'), {
    'bin/tool': 'tool\n',
    'share/doc/tool/README': 'readme\n',
  });
  const r = await cli(['add', src, '--name', 'tool', '--version', '1']);
  t.is(r.code, 0, describe(r));
  return { dir, local, store, cli };
}

type Home = Awaited<ReturnType<typeof home>>;

async function assertRefusedPlacement(
  t: ExecutionContext,
  h: Home,
  prefix: string,
  other: string,
  extra: string[] = [],
): Promise<void> {
  const watched = path.dirname(h.local);
  const before = await snapshotDir(watched, { exclude: [] });
  const r = await h.cli(['activate', 'tool', '--prefix', prefix, '--json', ...extra]);
  t.is(r.code, 7, describe(r));
  const e = jsonError(r) as {
    code: string;
    message: string;
    data?: { prefix?: string; other?: string };
  };
  t.is(e.code, 'EPSTORE_UNSAFE_PATH');
  t.true(e.message.includes(other), `names ${other}: ${e.message}`);
  t.truthy(e.data?.prefix && e.message.includes(e.data.prefix), 'names the prefix');
  const after = await snapshotDir(watched, { exclude: [] });
  // the store lock file may be touched; nothing else is created or changed
  t.deepEqual(
    Object.keys(after).filter((k) => !(k in before)),
    [],
    'nothing was created',
  );
  await assertCleanStore(t, h.store);
}

for (const [title, rel, other] of [
  ['the store itself', 'share/pstore', 'share/pstore'],
  ['a directory inside the store', 'share/pstore/objects-v1/new', 'share/pstore'],
  ['inside <store>/tmp (gc would wipe it)', 'share/pstore/tmp/prefix', 'share/pstore'],
] as const) {
  test(`--prefix ${title}: exit 7 naming both paths, nothing created`, async (t) => {
    const h = await home(t);
    await assertRefusedPlacement(t, h, path.join(h.local, rel), path.join(h.local, other));
  });
}

test('--prefix through a symlink that leads into the store: exit 7, nothing created', async (t) => {
  const h = await home(t);
  await fsp.symlink(h.store, path.join(h.dir, 'home', 'link'));
  await assertRefusedPlacement(t, h, path.join(h.dir, 'home', 'link', 'sub', 'prefix'), h.store);
});

test("--prefix inside another prefix's .pstore state: exit 7, that prefix unchanged", async (t) => {
  const h = await home(t);
  const p = path.join(h.dir, 'home', 'p');
  t.is((await h.cli(['activate', 'tool', '--prefix', p])).code, 0);
  const before = { tree: await listTree(p), state: await snapshotDir(path.join(p, '.pstore')) };
  await assertRefusedPlacement(t, h, path.join(p, '.pstore', 'inner'), path.join(p, '.pstore'));
  t.deepEqual(
    { tree: await listTree(p), state: await snapshotDir(path.join(p, '.pstore')) },
    before,
  );
  t.is((await h.cli(['verify', '--prefix', p])).code, 0);
});

for (const via of ['its symlink', '.pstore-G/trees/N'] as const) {
  test(`--prefix inside a generations prefix, through ${via}: exit 7, the generations prefix unchanged`, async (t) => {
    const h = await home(t);
    const g = path.join(h.dir, 'home', 'g');
    t.is((await h.cli(['activate', 'tool', '--prefix', g, '--layout', 'generations'])).code, 0);
    const state = path.join(h.dir, 'home', '.pstore-g');
    const before = await snapshotDir(state);
    const inner =
      via === 'its symlink' ? path.join(g, 'sub') : path.join(state, 'trees', '1', 'sub');
    await assertRefusedPlacement(t, h, inner, state);
    t.deepEqual(await snapshotDir(state), before);
    t.is((await h.cli(['verify', '--prefix', g])).code, 0);
    t.is(
      jsonOut<{ generation: number }>(await h.cli(['status', '--prefix', g, '--json'])).generation,
      1,
    );
  });
}

test('a prefix containing the store: a package path into the store subtree is exit 3 naming it; store and prefix unchanged', async (t) => {
  const h = await home(t);
  t.is(
    (await h.cli(['activate', 'tool', '--prefix', h.local])).code,
    0,
    'a prefix that contains the store is allowed',
  );
  // A package that ships an object file at the store's place for the key of content added later.
  const genuine = 'genuine content\n';
  const planted = objectPathOf(h.store, {
    integrity: sha512Integrity(Buffer.from(genuine)),
    exec: false,
  });
  const rel = path.relative(h.local, planted);
  const evil = await buildTree(path.join(h.dir, 'evil'), { [rel]: 'attacker bytes!\n' });
  t.is((await h.cli(['add', evil, '--name', 'evil', '--version', '1'])).code, 0);
  // the prefix's own tree: the store inside it is compared by storeSnapshot (its index files change on every open)
  const treeOutsideStore = async () =>
    Object.entries(await listTree(h.local)).filter(([k]) => !k.startsWith('share/pstore'));
  const before = {
    store: await storeSnapshot(h.store),
    tree: await treeOutsideStore(),
    objects: await objectFiles(h.store),
  };

  const r = await h.cli(['activate', 'evil', '--prefix', h.local, '--json']);
  t.is(r.code, 3, describe(r));
  const e = jsonError(r);
  t.is(e.code, 'EPSTORE_CONFLICT');
  t.is(e.subject, planted, 'names the path');
  t.false(await exists(planted), 'nothing was planted');
  t.deepEqual(
    {
      store: await storeSnapshot(h.store),
      tree: await treeOutsideStore(),
      objects: await objectFiles(h.store),
    },
    before,
  );
  t.is((await h.cli(['verify', '--prefix', h.local])).code, 0);
  t.deepEqual(
    jsonOut<{ packages: Array<{ name: string }> }>(
      await h.cli(['status', '--prefix', h.local, '--json']),
    ).packages.map((p) => p.name),
    ['tool'],
  );
  t.is((await h.cli(['verify'])).code, 0);
});

for (const [size, what] of [
  [100, 'a small object (compared byte for byte)'],
  [9 * 1024 * 1024, 'a streamed object (> 8 MiB, renamed over)'],
] as const) {
  test(`a planted object at the key of content added later: ${what} — the prefix gets the genuine bytes`, async (t) => {
    const h = await home(t);
    const genuine = Buffer.alloc(size, 'g');
    const planted = objectPathOf(h.store, { integrity: sha512Integrity(genuine), exec: false });
    await fsp.mkdir(path.dirname(planted), { recursive: true });
    await fsp.writeFile(planted, Buffer.alloc(size, 'e'), { mode: 0o444 }); // same size and mode: only a hash tells
    const src = await buildTree(path.join(h.dir, 'real'), { 'share/real/data': genuine });
    t.is((await h.cli(['add', src, '--name', 'real', '--version', '1'])).code, 0);
    const prefix = path.join(h.dir, 'prefix');
    const r = await h.cli(['activate', 'real', '--prefix', prefix]);
    t.is(r.code, 0, describe(r));
    t.true(
      (await fsp.readFile(path.join(prefix, 'share/real/data'))).equals(genuine),
      'the genuine bytes, not the planted ones',
    );
    t.is((await h.cli(['verify', '--prefix', prefix])).code, 0);
    await assertCleanStore(t, h.store);
  });
}
