// Streamed transfers: push and pull of one large entry (incompressible bytes) against the real
// registry, in child processes whose peak RSS (VmHWM from /proc, read as the process exits) must
// stay well under the entry's size. Node 20's fetch read an upload body ahead of the socket, so a
// push held the whole blob in memory; this test failed then. Memory bounds only, never time.

import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { jsonOut, storeCli, type CliOptions } from '../_helpers/cli.js';
import { must } from '../_helpers/oci-fixtures.js';
import { startRegistry } from '../_helpers/registry.js';
import { tempDir } from '../_helpers/tmp.js';

const MIB = 1024 * 1024;
const ENTRY_BYTES = 128 * MIB;
/** well under the entry: a process holding the blob whole goes past it */
const RSS_BOUND_BYTES = ENTRY_BYTES / 2 + 100 * MIB;

/** A preload that writes the process's peak RSS (VmHWM, bytes) to `out` as it exits. */
async function peakRssProbe(
  dir: string,
): Promise<{ env: CliOptions['env']; read(): Promise<number> }> {
  const out = path.join(dir, 'vmhwm');
  const probe = path.join(dir, 'probe.cjs');
  await fsp.writeFile(
    probe,
    `const fs = require('node:fs');
process.on('exit', () => {
  const kib = /VmHWM:\\s+(\\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1];
  fs.writeFileSync(${JSON.stringify(out)}, String(Number(kib) * 1024));
});
`,
  );
  return {
    env: { NODE_OPTIONS: `--require=${probe}` },
    read: async () => {
      const bytes = Number(await fsp.readFile(out, 'utf8'));
      await fsp.rm(out);
      return bytes;
    },
  };
}

/** files of 16 MiB from the CSPRNG: nothing compresses, nothing deduplicates */
async function largeTree(dir: string, bytes: number): Promise<void> {
  await fsp.mkdir(dir, { recursive: true });
  for (let i = 0; i * 16 * MIB < bytes; i++)
    await fsp.writeFile(
      path.join(dir, `part-${i}.bin`),
      randomBytes(Math.min(16 * MIB, bytes - i * 16 * MIB)),
    );
}

test('push and pull of a 128 MiB entry: peak RSS stays under half its size + 100 MiB', async (t) => {
  const registry = await startRegistry(t);
  const root = await tempDir(t, 'oci-memory');
  await largeTree(path.join(root, 'src'), ENTRY_BYTES);
  const probe = await peakRssProbe(root);
  const cliA = storeCli(path.join(root, 'store-a'));
  await must(t, cliA, ['add', path.join(root, 'src'), '--name', 'large', '--version', '1']);
  await fsp.rm(path.join(root, 'src'), { recursive: true });
  const timeoutMs = 300_000; // a loaded machine is slow; the bound is on memory, not time

  await must(t, cliA, ['push', 'large@1', '--to', registry.remote(), '--quiet'], {
    env: probe.env,
    timeoutMs,
  });
  const pushPeak = await probe.read();
  t.true(pushPeak < RSS_BOUND_BYTES, `push peak RSS ${(pushPeak / MIB).toFixed(0)} MiB`);

  const cliB = storeCli(path.join(root, 'store-b'));
  await must(t, cliB, ['pull', 'large@1', '--from', registry.remote(), '--quiet'], {
    env: probe.env,
    timeoutMs,
  });
  const pullPeak = await probe.read();
  t.true(pullPeak < RSS_BOUND_BYTES, `pull peak RSS ${(pullPeak / MIB).toFixed(0)} MiB`);
  t.log(
    `peak RSS: push ${(pushPeak / MIB).toFixed(0)} MiB, pull ${(pullPeak / MIB).toFixed(0)} MiB`,
  );

  const [a, b] = await Promise.all(
    [cliA, cliB].map(async (cli) =>
      jsonOut<{ id: string; integrity: string; bytes: number }>(
        await must(t, cli, ['info', 'large@1', '--json']),
      ),
    ),
  );
  t.deepEqual([b!.id, b!.integrity, b!.bytes], [a!.id, a!.integrity, ENTRY_BYTES]);
});
