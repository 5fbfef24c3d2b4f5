// The default remote: --to/--from wins over $PSTORE_REMOTE, which wins over "remote" in
// $XDG_CONFIG_HOME/pstore/config.json (else ~/.config/pstore/config.json). A config file that is
// not a JSON object or names no valid remote is exit 7 (EPSTORE_INVALID) naming it, nothing changed.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { describe, jsonOut, runCli, storeCli, type CliResult } from '../_helpers/cli.js';
import { must, sourceStore } from '../_helpers/oci-fixtures.js';
import { startRegistry } from '../_helpers/registry.js';
import { snapshotDir } from '../_helpers/snapshot.js';
import { tempDir } from '../_helpers/tmp.js';

/** HOME and XDG_CONFIG_HOME in temp dirs; `write` puts pstore's config file in one of them. */
async function configHome(t: ExecutionContext) {
  const home = await tempDir(t, 'home');
  const xdg = path.join(home, 'xdg');
  const env = { HOME: home, DOCKER_CONFIG: path.join(home, 'docker'), XDG_CONFIG_HOME: xdg };
  const write = async (dir: string, text: string) => {
    const file = path.join(dir, 'pstore', 'config.json');
    await fsp.mkdir(path.dirname(file), { recursive: true });
    await fsp.writeFile(file, text);
    return file;
  };
  return { home, xdg, env, write };
}

const remoteOf = (r: CliResult) => jsonOut<{ remote: string }>(r).remote;

test('precedence: --to > PSTORE_REMOTE > XDG config file > ~/.config; --verbose names the source', async (t) => {
  const registry = await startRegistry(t);
  const src = await sourceStore(t, { files: 3 });
  const cfg = await configHome(t);
  const push = ['push', 'tool', '--dry-run', '--json'];
  await cfg.write(
    path.join(cfg.home, '.config'),
    JSON.stringify({ remote: registry.remote('r/home') }),
  );
  const noXdg = { ...cfg.env, XDG_CONFIG_HOME: undefined };
  t.is(remoteOf(await must(t, src.cli, push, { env: noXdg })), registry.remote('r/home'));
  const file = await cfg.write(cfg.xdg, JSON.stringify({ remote: registry.remote('r/file') }));
  t.is(remoteOf(await must(t, src.cli, push, { env: cfg.env })), registry.remote('r/file'));
  const verbose = await must(t, src.cli, [...push, '--verbose'], { env: cfg.env });
  t.true(verbose.stderr.includes(`remote ${registry.remote('r/file')} from ${file}`));
  const env = { ...cfg.env, PSTORE_REMOTE: registry.remote('r/env') };
  t.is(remoteOf(await must(t, src.cli, push, { env })), registry.remote('r/env'));
  const flag = await must(t, src.cli, [...push, '--to', registry.remote('r/flag')], { env });
  t.is(remoteOf(flag), registry.remote('r/flag'));
});

test('sync and pull take the default remote from the config file', async (t) => {
  const registry = await startRegistry(t);
  const src = await sourceStore(t, { files: 3 });
  await must(t, src.cli, ['push', '--lock', src.lockfile, '--to', registry.remote(), '-q']);
  const cfg = await configHome(t);
  await cfg.write(cfg.xdg, JSON.stringify({ remote: registry.remote(), other: 'ignored' }));
  const dst = await tempDir(t, 'oci-default');
  const cliB = storeCli(path.join(dst, 'store'));
  const prefixB = path.join(dst, 'prefix');
  await must(t, cliB, ['sync', src.lockfile, '--prefix', prefixB], { env: cfg.env });
  const hashA = await must(t, src.cli, ['hash', '--prefix', src.prefix]);
  t.is((await must(t, cliB, ['hash', '--prefix', prefixB])).stdout, hashA.stdout);
  const pulled = await must(t, cliB, ['pull', 'tool@1.0', '--json'], { env: cfg.env });
  t.is(remoteOf(pulled), registry.remote());
});

test('a bad config file is exit 7 naming it, nothing changed; PSTORE_REMOTE or a flag skips it', async (t) => {
  const registry = await startRegistry(t);
  const src = await sourceStore(t, { files: 3 });
  const cfg = await configHome(t);
  const dst = await tempDir(t, 'oci-default');
  const cliB = storeCli(path.join(dst, 'store'));
  const bad = ['{"remote": ', '[]', '{"remote": 5}', '{"remote": "https://example.org/x"}'];
  for (const text of bad) {
    const file = await cfg.write(cfg.xdg, text);
    for (const args of [
      ['pull', 'tool@1.0', '--json'],
      ['sync', src.lockfile, '--prefix', path.join(dst, 'prefix'), '--json'],
    ]) {
      const r = await cliB(args, { env: cfg.env });
      t.is(r.code, 7, `${text}: ${describe(r)}`);
      const err = JSON.parse(r.stderr) as { error: { code: string; subject: string } };
      t.is(err.error.code, 'EPSTORE_INVALID');
      t.is(err.error.subject, file);
    }
  }
  t.deepEqual(await snapshotDir(dst), {}, 'no store, no prefix');
  const env = { ...cfg.env, PSTORE_REMOTE: registry.remote() };
  await must(t, src.cli, ['push', 'tool', '-q'], { env });
  await must(t, src.cli, ['push', 'tool', '-q', '--to', registry.remote()], { env: cfg.env });
});

test('no remote anywhere: exit 2 naming the flag; --help says where the default comes from', async (t) => {
  const cfg = await configHome(t);
  const cli = storeCli(path.join(await tempDir(t, 'oci-default'), 'store'));
  const r = await cli(['pull', 'tool@1.0', '--json'], { env: cfg.env });
  t.is(r.code, 2, describe(r));
  t.is((JSON.parse(r.stderr) as { error: { subject: string } }).error.subject, '--from');
  for (const cmd of ['push', 'pull', 'sync']) {
    const help = await runCli([cmd, '--help']);
    t.regex(help.stdout, /\$PSTORE_REMOTE, else "remote" in/, cmd);
    t.regex(
      help.stdout,
      /\$XDG_CONFIG_HOME\/pstore\/config\.json \(else ~\/\.config\/pstore\/config\.json\)/,
    );
  }
});
