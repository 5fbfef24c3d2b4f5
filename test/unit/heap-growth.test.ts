// lib/core/heap-growth.ts: once the heap limit is set, a worker thread boots with V8's default
// flags (so its built-ins come from Node's code cache) and the limit is set again when it is
// online or gone, once for workers booting together. Real worker threads; the flag setter records.

import { Worker } from 'node:worker_threads';
import test from 'ava';
import { limitHeapGrowthWith, startWorker } from '../../lib/core/heap-growth.js';

const calls: string[] = [];
limitHeapGrowthWith((flags) => calls.push(flags));
const LIMITED = '--heap-growing-percent=30';
const V8_DEFAULT = '--heap-growing-percent=0';

const ONLINE = 'require("node:worker_threads").parentPort.postMessage("up")';

function run(code: string): { worker: Worker; ended: Promise<void> } {
  const worker = startWorker(() => new Worker(code, { eval: true }));
  const ended = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return { worker, ended };
}

test.serial(
  'the limit is set at once, back to the default while a worker boots, set again once it is online',
  async (t) => {
    t.deepEqual(calls, [LIMITED]);
    const { worker, ended } = run(ONLINE);
    t.deepEqual(calls, [LIMITED, V8_DEFAULT], 'the default before the worker runs any code');
    await new Promise((resolve) => worker.once('message', resolve));
    t.deepEqual(calls, [LIMITED, V8_DEFAULT, LIMITED]);
    await worker.terminate();
    await ended;
    t.deepEqual(calls, [LIMITED, V8_DEFAULT, LIMITED], 'nothing more when it ends');
  },
);

test.serial('workers booting together: one default, one limit once the last is up', async (t) => {
  calls.length = 0;
  const a = run(ONLINE);
  const b = run(ONLINE);
  t.deepEqual(calls, [V8_DEFAULT]);
  await Promise.all([a, b].map((w) => new Promise((r) => w.worker.once('message', r))));
  t.deepEqual(calls, [V8_DEFAULT, LIMITED]);
  await Promise.all([a.worker.terminate(), b.worker.terminate()]);
});

test.serial('a worker whose code fails at once still gives the limit back, once', async (t) => {
  calls.length = 0;
  const { worker, ended } = run('throw new Error("boom")');
  worker.on('error', () => {});
  await ended;
  t.deepEqual(calls, [V8_DEFAULT, LIMITED]);
});

test.serial('a worker that cannot be made gives the limit back and throws', (t) => {
  calls.length = 0;
  t.throws(() =>
    startWorker(() => {
      throw new Error('no worker');
    }),
  );
  t.deepEqual(calls, [V8_DEFAULT, LIMITED]);
});
