// An add of files given in memory (the path every wheel takes) stops at an abort while it hashes
// and writes them, as a directory or tar add does: EPSTORE_ABORTED, no entry, and not every object
// written first. The ingest is synchronous per file, so it must also give the event loop turns for
// a timer's (or a signal handler's) abort to be seen at all.

import test from 'ava';
import { isPstoreError, openStore, type InMemoryFile } from '../../lib/index.js';
import { rejection } from '../_helpers/api.js';
import { objectFiles } from '../_helpers/store.js';
import { tempStore } from '../_helpers/tmp.js';

/** Enough distinct small files that writing them all takes far longer than one progress interval. */
const FILES = 20_000;

function manyFiles(): InMemoryFile[] {
  return Array.from({ length: FILES }, (_, i) => ({
    path: `pkg/m${i}.py`,
    data: `x = ${i}\n`,
  }));
}

async function assertAbortedEarly(
  t: import('ava').ExecutionContext,
  storeDir: string,
  err: unknown,
) {
  t.true(isPstoreError(err), String(err));
  if (isPstoreError(err)) t.is(err.code, 'EPSTORE_ABORTED', err.message);
  t.deepEqual(await openStore({ path: storeDir }).list(), [], 'no entry recorded');
  const written = (await objectFiles(storeDir)).length;
  t.true(written < FILES, `stopped before writing every object (${written} of ${FILES})`);
}

test('an abort from a progress listener stops an in-memory add between two files', async (t) => {
  const storeDir = await tempStore(t);
  const ac = new AbortController();
  const err = await rejection(
    openStore({ path: storeDir }).add(
      { files: manyFiles() },
      { name: 'p', version: '1', signal: ac.signal, onProgress: () => ac.abort() },
    ),
  );
  await assertAbortedEarly(t, storeDir, err);
});

test('an abort from a timer is seen during a long in-memory add (the event loop turns)', async (t) => {
  const storeDir = await tempStore(t);
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 50);
  t.teardown(() => clearTimeout(timer));
  const err = await rejection(
    openStore({ path: storeDir }).add(
      { files: manyFiles() },
      { name: 'p', version: '1', signal: ac.signal },
    ),
  );
  await assertAbortedEarly(t, storeDir, err);
});
