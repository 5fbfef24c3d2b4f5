// lib/core/heap-growth.ts: once the heap limit is set, a worker thread boots with V8's default
// flags (so its built-ins come from Node's code cache) and the limit is set again when it is
// online or gone, once for workers booting together. Real worker threads of real module files;
// the flag setter records its calls.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Worker } from 'node:worker_threads';
import test, { type ExecutionContext } from 'ava';
import { limitHeapGrowthWith, startWorker } from '../../lib/core/heap-growth.js';
import { tempDir } from '../_helpers/tmp.js';

const calls: string[] = [];
limitHeapGrowthWith((flags) => calls.push(flags));
const LIMITED = '--heap-growing-percent=30';
const V8_DEFAULT = '--heap-growing-percent=0';

/** A worker of a module file holding `code`, and when it ends. */
async function run(
  t: ExecutionContext,
  code: string,
): Promise<{ worker: Worker; ended: Promise<void> }> {
  const file = path.join(await tempDir(t, 'worker'), 'w.mjs');
  await fsp.writeFile(file, code);
  const worker = startWorker(pathToFileURL(file));
  const ended = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return { worker, ended };
}

const UP = "import { parentPort } from 'node:worker_threads'; parentPort.postMessage('up');";
const said = (w: Worker) => new Promise((resolve) => w.once('message', resolve));

test.serial(
  'the limit is set at once, back to the default while a worker boots, set again once it is online',
  async (t) => {
    t.deepEqual(calls, [LIMITED]);
    const { worker, ended } = await run(t, UP);
    t.deepEqual(calls, [LIMITED, V8_DEFAULT], 'the default before the worker runs any code');
    await said(worker);
    t.deepEqual(calls, [LIMITED, V8_DEFAULT, LIMITED]);
    await worker.terminate();
    await ended;
    t.deepEqual(calls, [LIMITED, V8_DEFAULT, LIMITED], 'nothing more when it ends');
  },
);

test.serial('workers booting together: one default, one limit once the last is up', async (t) => {
  calls.length = 0;
  const a = await run(t, UP);
  const b = await run(t, UP);
  t.deepEqual(calls, [V8_DEFAULT]);
  await Promise.all([said(a.worker), said(b.worker)]);
  t.deepEqual(calls, [V8_DEFAULT, LIMITED]);
  await Promise.all([a.worker.terminate(), b.worker.terminate()]);
});

test.serial('a worker that cannot load its module still gives the limit back, once', async (t) => {
  calls.length = 0;
  const { worker, ended } = await run(t, 'import "./no-such-module.mjs";');
  worker.on('error', () => {});
  await ended;
  t.deepEqual(calls, [V8_DEFAULT, LIMITED]);
});
