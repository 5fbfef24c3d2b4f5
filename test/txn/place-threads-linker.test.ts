// The second placing thread's copies count (lib/txn/place-threads.ts): a generations record says
// `hardLinked` only if neither thread made a file otherwise (SPEC.md §Check, *Kept entries*). A
// real worker, real files; the worker's half links from a bind mount (EXDEV: one device, two
// mounts), so the worker alone falls back to copies while the main thread hard-links. Built tests
// only: from TypeScript source no worker loads.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { DirtyDirs } from '../../lib/fs/flush.js';
import { createLinker } from '../../lib/txn/link.js';
import { placeOnTwoThreads } from '../../lib/txn/place-threads.js';
import { takePlaceWorker } from '../../lib/txn/placer.js';
import { planTransaction, type PlanPackage } from '../../lib/txn/plan.js';
import { storeLayout } from '../../lib/store/layout.js';
import test from 'ava';
import { bindMount, IS_ROOT } from '../_helpers/environment.js';
import { fakeId, mfile, withParents } from '../_helpers/manifests.js';
import { tempDir } from '../_helpers/tmp.js';

// from source (npx ava FILE.test.ts) no worker loads; a bind mount needs root
const maybe = import.meta.url.endsWith('.ts') || !IS_ROOT ? test.skip : test;
process.env.PSTORE_PLACE_THREADS = '2'; // two threads for a small plan

function pkg(n: number): PlanPackage {
  const files = withParents(
    Array.from({ length: n }, (_, i) => mfile(`d${i % 7}/f${String(i).padStart(3, '0')}`)),
  );
  return {
    ref: { name: 'p', version: '1', id: fakeId(JSON.stringify(files)) },
    manifest: { formatVersion: 1, name: 'p', version: '1', markers: [], files },
  };
}

for (const mounted of [false, true])
  maybe(
    `two threads: ${mounted ? "the worker's copies end" : 'hard links on both keep'} "only hard links"`,
    async (t) => {
      const dir = await tempDir(t, 'threads-linker');
      const objects = path.join(dir, 'objects');
      await fsp.mkdir(objects);
      const plan = planTransaction([], [pkg(40)]);
      const half = plan.place.length >> 1;
      // each placed file's object: its own file, the worker's half through the mount if any
      const viaMount = path.join(dir, 'via-mount');
      await fsp.mkdir(viaMount);
      if (mounted) await bindMount(t, objects, viaMount);
      plan.objectPaths = await Promise.all(
        plan.place.map(async ({ file }, i) => {
          await fsp.writeFile(path.join(objects, `o${i}`), file.path, { mode: 0o444 });
          return path.join(i < half || !mounted ? objects : viaMount, `o${i}`);
        }),
      );
      const root = path.join(dir, 'tree');
      await fsp.mkdir(root);
      const worker = takePlaceWorker(plan.place.length);
      if (!worker) return t.fail('no worker for a two-thread plan');
      const linker = createLinker('auto');
      const ctx = { store: storeLayout(dir), root, linker, txid: 't', dirty: new DirtyDirs() };
      try {
        await placeOnTwoThreads(ctx, plan, worker, { between: () => {}, waiting: () => {} });
      } finally {
        worker.release();
      }
      t.is(linker.method, 'hardlink', 'the main thread settled on hard links');
      t.is(linker.onlyHardLinks, !mounted);
      const last = plan.place[plan.place.length - 1]!.file.path;
      t.is((await fsp.stat(path.join(root, last))).nlink, mounted ? 1 : 2);
    },
  );
