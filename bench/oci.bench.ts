// OCI remote benchmark (issue 11): a generated 7.5k-file tree (the size of the merged Debian corpus)
// added, activated and locked in store A (untimed); a docker-registry on 127.0.0.1 with storage in
// .bench-work. Timed, median of N runs (default 3):
//   - `pstore push --lock` into a fresh repository, beside `skopeo copy --all` of the same artifact
//     as an OCI layout directory into another fresh repository;
//   - `pstore pull --lock` into a fresh store, beside `skopeo copy --all` back into a layout dir;
//   - a warm `pstore sync LOCK --prefix P --from REMOTE` (the store has everything: no request)
//     beside `pstore --version`.
// Ratios are pstore / skopeo (and warm sync / --version).

import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { have, run } from './_lib/exec.js';
import { generateTree } from './_lib/gen-tree.js';
import { WORK_DIR, requireBuiltCli } from './_lib/paths.js';
import { removeTree } from './_lib/peers.js';
import { pstoreCli } from './_lib/pstore.js';
import { formatMs, formatRatio, median } from './_lib/timing.js';

export interface OciBenchOptions {
  repeats?: number;
  files?: number;
}

async function startRegistry(dir: string): Promise<{ host: string; stop: () => void }> {
  const config = path.join(dir, 'config.yml');
  await fsp.writeFile(
    config,
    `version: 0.1\nlog:\n  level: info\n  formatter: json\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:0\n  secret: bench\n`,
  );
  const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await new Promise<string>((resolve, reject) => {
    let log = '';
    const on = (c: Buffer) => {
      log += c.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(log);
      if (m) resolve(m[1]!);
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
    child.once('exit', () => reject(new Error(`docker-registry exited:\n${log}`)));
  });
  return { host: `127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}

const skopeo = (...args: string[]) =>
  run('skopeo', [
    '--insecure-policy',
    ...args,
    '--src-tls-verify=false',
    '--dest-tls-verify=false',
  ]);

export async function runOciBench(opts: OciBenchOptions = {}): Promise<{ ok: boolean }> {
  requireBuiltCli();
  for (const tool of ['docker-registry', 'skopeo'])
    if (!(await have(tool))) {
      process.stdout.write(`oci: skipped, ${tool} is not installed (apt-get install ${tool})\n`);
      return { ok: true };
    }
  const files = opts.files ?? 7500;
  const repeats = opts.repeats ?? 3;
  const work = path.join(WORK_DIR, 'oci');
  await removeTree(work);
  await fsp.mkdir(work, { recursive: true });
  const registry = await startRegistry(work);
  try {
    const tree = path.join(work, 'tree');
    await generateTree(files, tree, path.join(work, 'tree.tar'));
    const storeA = path.join(work, 'store-a');
    const lock = path.join(work, 'pstore.lock');
    await pstoreCli(['--store', storeA, 'add', tree, '--name', 'corpus', '--version', '1'], {
      maxRss: false,
    });
    await pstoreCli(
      ['--store', storeA, 'activate', 'corpus', '--prefix', path.join(work, 'prefix-a')],
      { maxRss: false },
    );
    await pstoreCli(
      ['--store', storeA, 'lock', '--prefix', path.join(work, 'prefix-a'), '-o', lock],
      { maxRss: false },
    );
    const rows: Array<[string, number, number]> = [];
    const push: number[] = [],
      skPush: number[] = [],
      pull: number[] = [],
      skPull: number[] = [];
    let tag = '';
    for (let i = 0; i < repeats; i++) {
      const remote = `oci://${registry.host}/bench/p${i}`;
      const r = await pstoreCli(
        ['--store', storeA, 'push', '--lock', lock, '--to', remote, '--json'],
        { maxRss: false },
      );
      push.push(r.ms);
      tag = (JSON.parse(r.stdout) as { lock: { tag: string } }).lock.tag;
      const layout = path.join(work, `layout-${i}`);
      await skopeo(
        'copy',
        '--all',
        `docker://${registry.host}/bench/p${i}:${tag}`,
        `oci:${layout}:${tag}`,
      );
      skPush.push(
        (
          await skopeo(
            'copy',
            '--all',
            `oci:${layout}:${tag}`,
            `docker://${registry.host}/bench/s${i}:${tag}`,
          )
        ).ms,
      );
      pull.push(
        (
          await pstoreCli(
            ['--store', path.join(work, `store-b${i}`), 'pull', '--lock', lock, '--from', remote],
            { maxRss: false },
          )
        ).ms,
      );
      skPull.push(
        (
          await skopeo(
            'copy',
            '--all',
            `docker://${registry.host}/bench/s${i}:${tag}`,
            `oci:${path.join(work, `back-${i}`)}:${tag}`,
          )
        ).ms,
      );
    }
    rows.push(['push --lock vs skopeo copy oci: -> docker://', median(push), median(skPush)]);
    rows.push(['pull --lock vs skopeo copy docker:// -> oci:', median(pull), median(skPull)]);
    const storeB = path.join(work, 'store-b0');
    const prefixB = path.join(work, 'prefix-b');
    const syncArgs = [
      '--store',
      storeB,
      'sync',
      lock,
      '--prefix',
      prefixB,
      '--from',
      `oci://${registry.host}/bench/p0`,
    ];
    await pstoreCli(syncArgs, { maxRss: false });
    const warm: number[] = [],
      version: number[] = [];
    for (let i = 0; i < Math.max(5, repeats); i++) {
      warm.push((await pstoreCli(syncArgs, { maxRss: false })).ms);
      version.push((await pstoreCli(['--version'], { maxRss: false })).ms);
    }
    rows.push(['warm sync --from (no-op) vs pstore --version', median(warm), median(version)]);
    process.stdout.write(`oci: ${files} files, median of ${repeats} runs, registry on 127.0.0.1\n`);
    for (const [what, a, b] of rows)
      process.stdout.write(
        `  ${what.padEnd(48)} ${formatMs(a).padStart(9)} ${formatMs(b).padStart(9)}  ${formatRatio(a / b)}\n`,
      );
    return { ok: true };
  } finally {
    registry.stop();
  }
}
