// `--link hardlink` (or reflink) where the store and the prefix are on different filesystems
// (issue 10): refused before anything changes, in the user's words ("store and prefix are on
// different filesystems; use --link auto or --link copy"), naming the prefix, never an internal
// temp path and EXDEV. A real tmpfs mount holds the prefix (root, as in CI).

import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { describe, jsonOut, storeCli } from '../_helpers/cli.js';
import { mountTmpfs, rootTest } from '../_helpers/environment.js';
import { snapshotDir } from '../_helpers/snapshot.js';
import { buildTree } from '../_helpers/tree.js';
import { tempDir } from '../_helpers/tmp.js';

const MESSAGE = 'store and prefix are on different filesystems; use --link auto or --link copy';

for (const layout of ['inplace', 'generations'] as const) {
  rootTest(
    `--link hardlink across filesystems (${layout}): exit 2 in plain words, nothing changed`,
    async (t) => {
      const dir = await tempDir(t, 'xdev');
      const mount = await mountTmpfs(t, { size: '8m' });
      const cli = storeCli(path.join(dir, 'store'));
      for (const v of ['1', '2']) {
        const src = await buildTree(path.join(dir, `src${v}`), { 'bin/tool': `tool ${v}\n` });
        const r = await cli(['add', src, '--name', 'tool', '--version', v]);
        t.is(r.code, 0, describe(r));
      }

      // a new prefix: refused, and not created
      const fresh = path.join(mount, 'fresh');
      for (const link of ['hardlink', 'reflink']) {
        const r = await cli([
          'activate',
          'tool@1',
          '--prefix',
          fresh,
          '--layout',
          layout,
          '--link',
          link,
        ]);
        t.is(r.code, 2, describe(r));
        t.is(r.stderr, `pstore: EPSTORE_USAGE: --link ${link}: ${MESSAGE}\n`);
      }
      t.false(existsSync(fresh), 'no prefix was created');

      // an existing prefix (made with --link copy): refused, and untouched
      const prefix = path.join(mount, 'prefix');
      const made = await cli([
        'activate',
        'tool@1',
        '--prefix',
        prefix,
        '--layout',
        layout,
        '--link',
        'copy',
      ]);
      t.is(made.code, 0, describe(made));
      const before = await snapshotDir(mount);
      const json = await cli([
        'activate',
        'tool@2',
        '--prefix',
        prefix,
        '--link',
        'hardlink',
        '--json',
      ]);
      t.is(json.code, 2, describe(json));
      const err = JSON.parse(json.stderr) as {
        error: { code: string; message: string; subject: string };
      };
      t.like(err.error, { code: 'EPSTORE_USAGE', subject: prefix });
      t.true(err.error.message.endsWith(MESSAGE));
      t.false(/EXDEV|\.pstore-tmp/.test(json.stderr), 'no errno, no internal temp path');
      const rollback = await cli(['rollback', '--prefix', prefix, '--link', 'hardlink']);
      t.is(rollback.code, 6, `nothing to roll back to is found first: ${describe(rollback)}`);
      t.deepEqual(await snapshotDir(mount), before, 'the prefix and its state are untouched');

      // what the message suggests works
      const auto = await cli([
        'activate',
        'tool@2',
        '--prefix',
        prefix,
        '--link',
        'auto',
        '--json',
      ]);
      t.is(auto.code, 0, describe(auto));
      t.not(jsonOut<{ link: string }>(auto).link, 'hardlink');
    },
  );
}

rootTest(
  'generations, --link auto across filesystems: the tree is copies, and its record does not say hard-linked (its kept objects are looked at again)',
  async (t) => {
    const dir = await tempDir(t, 'xdev');
    const mount = await mountTmpfs(t, { size: '8m' });
    const cli = storeCli(path.join(dir, 'store'));
    const src = await buildTree(path.join(dir, 'src'), { 'bin/tool': 'tool\n' });
    t.is((await cli(['add', src, '--name', 'tool', '--version', '1'])).code, 0);
    const prefix = path.join(mount, 'g');
    const r = await cli(['activate', 'tool', '--prefix', prefix, '--layout', 'generations']);
    t.is(r.code, 0, describe(r));
    t.is((await fsp.stat(path.join(prefix, 'bin/tool'))).nlink, 1, 'a copy');
    const record = JSON.parse(
      await fsp.readFile(path.join(mount, '.pstore-g', 'generations', '1.json'), 'utf8'),
    ) as Record<string, unknown>;
    t.false('hardLinked' in record);
  },
);
