// `activate REF... --replace NAME...` (issue 10): swap a package for another that ships the same
// paths in one transaction; the conflict without it names the active owner and hints at --replace.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { describe, jsonOut, storeCli } from '../_helpers/cli.js';
import { snapshotDir } from '../_helpers/snapshot.js';
import { buildTree } from '../_helpers/tree.js';
import { tempDir } from '../_helpers/tmp.js';

for (const layout of ['inplace', 'generations'] as const) {
  test(`${layout}: --replace swaps packages that ship the same path; without it, exit 3 hints at it`, async (t) => {
    const dir = await tempDir(t, `replace-${layout}`);
    const cli = storeCli(path.join(dir, 'store'));
    const prefix = path.join(dir, 'p');
    for (const [name, body] of [
      ['vim', 'vim\n'],
      ['neovim', 'neovim\n'],
    ] as const) {
      const src = await buildTree(path.join(dir, 'src', name), {
        'bin/vi': body,
        [`share/${name}/doc`]: body,
      });
      const r = await cli(['add', src, '--name', name, '--version', '1', '--quiet']);
      t.is(r.code, 0, describe(r));
    }
    const at = ['--prefix', prefix, '--layout', layout];
    t.is((await cli(['activate', 'vim', ...at, '-q'])).code, 0);
    const before = await snapshotDir(dir, { exclude: ['store'] });

    const clash = await cli(['activate', 'neovim', ...at, '--json']);
    t.is(clash.code, 3, describe(clash));
    const err = (JSON.parse(clash.stderr) as { error: Record<string, unknown> }).error;
    t.like(err, {
      code: 'EPSTORE_CONFLICT',
      subject: 'bin/vi',
      data: { owners: ['vim', 'neovim'] },
    });
    t.regex(String(err.hint), /--replace vim/);
    t.deepEqual(await snapshotDir(dir, { exclude: ['store'] }), before, 'nothing changed');

    const notActive = await cli(['activate', 'neovim', '--replace', 'emacs', ...at]);
    t.is(notActive.code, 6, describe(notActive));

    const swap = await cli(['activate', 'neovim', '--replace', 'vim', ...at, '--json']);
    t.is(swap.code, 0, describe(swap));
    const out = jsonOut<{
      activated: Array<{ name: string }>;
      deactivated: Array<{ name: string }>;
    }>(swap);
    t.deepEqual(
      out.activated.map((p) => p.name),
      ['neovim'],
    );
    t.deepEqual(
      out.deactivated.map((p) => p.name),
      ['vim'],
    );
    t.is(await fsp.readFile(path.join(prefix, 'bin/vi'), 'utf8'), 'neovim\n');
    await t.throwsAsync(fsp.lstat(path.join(prefix, 'share/vim')), { code: 'ENOENT' });
    const gens = jsonOut<Array<{ generation: number }>>(
      await cli(['generations', ...at.slice(0, 2), '--json']),
    );
    t.is(gens.length, 2, 'one transaction');
  });
}
