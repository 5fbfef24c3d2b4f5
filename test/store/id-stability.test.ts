// Entry ids depend on content, name, version and markers only: not on the source format, member
// order, `./` prefixes or omitted parent directories. Re-adding is free; name@version means the latest add (a bare name must be unique).

import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { describe, jsonOut, storeCli, type CliResult } from '../_helpers/cli.js';
import { expectedEntryId, lsJson, objectFiles } from '../_helpers/store.js';
import { buildTar, gzip, type Member } from '../_helpers/tar.js';
import { buildTree, describeTree, file, symlink, type TreeSpec } from '../_helpers/tree.js';
import { tempDir, tempStore } from '../_helpers/tmp.js';

const SPEC: TreeSpec = {
  bin: { tool: file('#!/bin/sh\necho hi\n', 0o755) },
  lib: { 'libx.so.1': 'lib bytes\n', 'libx.so': symlink('libx.so.1') },
  share: { doc: { x: { README: 'readme\n' } }, empty: {} },
  'top.txt': 'top level\n',
};

interface AddSummary {
  id: string;
  name: string;
  version: string;
  files: number;
  objectsWritten: number;
}

function added(t: ExecutionContext, r: CliResult): AddSummary {
  t.is(r.code, 0, describe(r));
  return jsonOut<AddSummary>(r);
}

/** Tar members for the tree in `src`, read from disk, with variations. */
async function members(
  src: string,
  opts: { dotSlash?: boolean; parents?: boolean; reverse?: boolean; root?: boolean } = {},
): Promise<Member[]> {
  const desc = await describeTree(src);
  const prefix = opts.dotSlash ? './' : '';
  // a directory entry is needed only for empty directories when parents are omitted
  const nonEmpty = new Set(
    desc.flatMap((f) => {
      const i = f.path.lastIndexOf('/');
      return i === -1 ? [] : [f.path.slice(0, i)];
    }),
  );
  const out: Member[] = opts.root ? [{ path: './', type: 'dir' }] : [];
  for (const f of desc) {
    if (f.type === 'dir') {
      if ((opts.parents ?? true) || !nonEmpty.has(f.path))
        out.push({ path: `${prefix}${f.path}/`, type: 'dir' });
    } else if (f.type === 'symlink') {
      out.push({ path: `${prefix}${f.path}`, type: 'symlink', linkpath: f.target });
    } else {
      out.push({
        path: `${prefix}${f.path}`,
        type: 'file',
        data: await fsp.readFile(path.join(src, f.path)),
        mode: f.exec ? 0o755 : 0o644,
      });
    }
  }
  if (opts.reverse) out.reverse();
  return out;
}

test('directory, .tar, .tar.gz and stdin give the same id; re-adds write no objects', async (t) => {
  const dir = await tempDir(t, 'ids');
  const src = await buildTree(path.join(dir, 'src'), SPEC);
  const tarFile = path.join(dir, 'pkg.tar');
  const tgzFile = path.join(dir, 'pkg.tar.gz');
  execFileSync('tar', ['-C', src, '-cf', tarFile, '.']);
  execFileSync('tar', ['-C', src, '-czf', tgzFile, '.']);
  const store = await tempStore(t);
  const cli = storeCli(store);
  const args = ['--name', 'pkg', '--version', '1.0', '--json'];

  const fromDir = added(t, await cli(['add', src, ...args]));
  t.true(fromDir.objectsWritten > 0);
  t.is(
    fromDir.id,
    expectedEntryId('pkg', '1.0', [], await describeTree(src)),
    'the id is the documented hash of the canonical manifest',
  );
  const objectsAfterFirst = (await objectFiles(store)).length;

  const fromTar = added(t, await cli(['add', tarFile, ...args]));
  const fromTgz = added(t, await cli(['add', tgzFile, ...args]));
  const fromStdin = added(
    t,
    await cli(['add', '-', ...args], { input: await fsp.readFile(tarFile) }),
  );
  const fromStdinGz = added(
    t,
    await cli(['add', '-', ...args], { input: await fsp.readFile(tgzFile) }),
  );
  const again = added(t, await cli(['add', src, ...args]));
  for (const [label, r] of Object.entries({ fromTar, fromTgz, fromStdin, fromStdinGz, again })) {
    t.is(r.id, fromDir.id, `${label}: same id`);
    t.is(r.objectsWritten, 0, `${label}: identical content writes no objects`);
  }
  t.is((await objectFiles(store)).length, objectsAfterFirst);
  t.is((await lsJson(t, store)).length, 1, 'one entry, however often it was added');
});

test('tar quirks do not change the id: omitted parents, ./ prefixes, a ./ root entry, member order', async (t) => {
  const dir = await tempDir(t, 'quirks');
  const src = await buildTree(path.join(dir, 'src'), SPEC);
  const store = await tempStore(t);
  const cli = storeCli(store);
  const args = ['--name', 'pkg', '--version', '1.0', '--json'];
  const base = added(t, await cli(['add', src, ...args]));

  const variants: Record<string, Member[]> = {
    plain: await members(src),
    'no parent directory entries': await members(src, { parents: false }),
    './ prefixes': await members(src, { dotSlash: true }),
    './ prefixes and a ./ root entry, no parents': await members(src, {
      dotSlash: true,
      root: true,
      parents: false,
    }),
    'reverse order, no parents': await members(src, { reverse: true, parents: false }),
  };
  t.true(
    variants['no parent directory entries']!.length < variants.plain!.length,
    'the variant really omits directories',
  );
  for (const [label, m] of Object.entries(variants)) {
    const archive = path.join(dir, `${label.replace(/\W+/g, '-')}.tar`);
    await fsp.writeFile(archive, buildTar(m));
    t.is(added(t, await cli(['add', archive, ...args])).id, base.id, label);
  }
  const gz = path.join(dir, 'gz.tgz');
  await fsp.writeFile(gz, gzip(buildTar(await members(src, { dotSlash: true, parents: false }))));
  t.is(added(t, await cli(['add', gz, ...args])).id, base.id, 'gzip of a quirky tar');
});

test('an empty tar and an empty directory are the same valid, empty entry', async (t) => {
  const dir = await tempDir(t, 'empty');
  const emptyDir = path.join(dir, 'empty');
  await fsp.mkdir(emptyDir);
  const emptyTar = path.join(dir, 'empty.tar');
  execFileSync('tar', ['-cf', emptyTar, '-T', '/dev/null']);
  const store = await tempStore(t);
  const cli = storeCli(store);
  const args = ['--name', 'nothing', '--version', '0', '--json'];
  const a = added(t, await cli(['add', emptyDir, ...args]));
  t.like(a, { files: 0, objectsWritten: 0 });
  t.is(a.id, expectedEntryId('nothing', '0', [], []));
  t.is(added(t, await cli(['add', emptyTar, ...args])).id, a.id, 'GNU tar of nothing');
  t.is(
    added(t, await cli(['add', '-', ...args], { input: buildTar([]) })).id,
    a.id,
    'just the end-of-archive blocks, on stdin',
  );
});

test('name, version and markers are part of the id; marker order and duplicates are not', async (t) => {
  const src = await buildTree(path.join(await tempDir(t, 'meta'), 'src'), SPEC);
  const store = await tempStore(t);
  const cli = storeCli(store);
  const idOf = async (source: string, ...args: string[]) =>
    added(t, await cli(['add', source, '--json', ...args])).id;
  const id = (...args: string[]) => idOf(src, ...args);

  const base = await id('--name', 'pkg', '--version', '1.0');
  const others = {
    name: await id('--name', 'pkg2', '--version', '1.0'),
    version: await id('--name', 'pkg', '--version', '1.1'),
    marker: await id('--name', 'pkg', '--version', '1.0', '--marker', 'share/doc/**'),
    twoMarkers: await id(
      '--name',
      'pkg',
      '--version',
      '1.0',
      '--marker',
      'share/doc/**',
      '--marker',
      'etc/*.conf',
    ),
  };
  const all = [base, ...Object.values(others)];
  t.is(new Set(all).size, all.length, `all different: ${JSON.stringify({ base, ...others })}`);
  t.is(
    await id(
      '--name',
      'pkg',
      '--version',
      '1.0',
      '--marker',
      'etc/*.conf',
      '--marker',
      'share/doc/**',
      '--marker',
      'etc/*.conf',
    ),
    others.twoMarkers,
    'markers are a sorted set',
  );
  t.is(
    others.twoMarkers,
    expectedEntryId('pkg', '1.0', ['share/doc/**', 'etc/*.conf'], await describeTree(src)),
  );
  t.is((await lsJson(t, store)).length, 5);

  // content is part of the id too, of course: one changed byte, one changed exec bit
  const dir2 = await tempDir(t, 'meta2');
  const changed = await buildTree(path.join(dir2, 'a'), { ...SPEC, 'top.txt': 'top levek\n' });
  const chmodded = await buildTree(path.join(dir2, 'b'), {
    ...SPEC,
    'top.txt': file('top level\n', 0o755),
  });
  const c1 = await idOf(changed, '--name', 'pkg', '--version', '1.0');
  const c2 = await idOf(chmodded, '--name', 'pkg', '--version', '1.0');
  t.not(c1, base);
  t.not(c2, base);
  t.not(c1, c2);
});

test('same name@version with new content: a second entry, and NAME@VERSION is the latest add', async (t) => {
  const dir = await tempDir(t, 'latest');
  const one = await buildTree(path.join(dir, 'one'), SPEC);
  const two = await buildTree(path.join(dir, 'two'), { ...SPEC, 'top.txt': 'rebuilt\n' });
  const store = await tempStore(t);
  const cli = storeCli(store);
  const resolve = async (ref: string) => {
    const r = await cli(['info', ref, '--json']);
    t.is(r.code, 0, describe(r));
    return jsonOut<{ id: string }>(r).id;
  };
  const args = ['--name', 'pkg', '--version', '2.0', '--json'];

  const a = added(t, await cli(['add', one, ...args]));
  t.is(await resolve('pkg@2.0'), a.id);
  const b = added(t, await cli(['add', two, ...args]));
  t.not(b.id, a.id);
  t.is(b.objectsWritten, 1, 'only the changed file is new');
  t.is(await resolve('pkg@2.0'), b.id, 'the latest add wins');
  const bare = await cli(['info', 'pkg', '--json']);
  t.is(bare.code, 7, `NAME alone, two entries: ambiguous\n${describe(bare)}`);
  t.deepEqual(
    (await lsJson(t, store)).map((e) => e.id).sort(),
    [a.id, b.id].sort(),
    'both entries are kept',
  );

  const again = added(t, await cli(['add', one, ...args]));
  t.is(again.id, a.id);
  t.is(again.objectsWritten, 0);
  t.is(await resolve('pkg@2.0'), a.id, 're-adding the first content makes it the latest again');
  t.is(await resolve(a.id), a.id, 'a full id resolves');
  t.is(await resolve(b.id.slice(0, 12)), b.id, 'an id prefix resolves');
  t.is((await lsJson(t, store)).length, 2);

  // another version added later does not change what pkg@2.0 means
  added(t, await cli(['add', two, '--name', 'pkg', '--version', '3.0', '--json']));
  t.is(await resolve('pkg@2.0'), a.id);
});
