// The pure parts of a two-thread directory ingest: the shared file cursor, the shared object
// claims, the choice of thread count, and errors crossing from the worker as data.

import fs from 'node:fs';
import test from 'ava';
import { PstoreError } from '../../lib/core/errors.js';
import { ingestThreads, THREADED_MIN_FILES } from '../../lib/ingest/dir-threads.js';
import { FileClaims, ObjectClaims } from '../../lib/ingest/shared-work.js';
import { reviveError, sendError } from '../../lib/core/thread-error.js';

test('file claims hand out each index once, in order, and none after a stop', (t) => {
  const claims = new FileClaims(3);
  const other = new FileClaims(3, claims.buffer); // another thread's view of the same buffer
  t.deepEqual([claims.next(), other.next(), claims.next(), other.next()], [0, 1, 2, -1]);
  const stopped = new FileClaims(5);
  t.is(stopped.next(), 0);
  new FileClaims(5, stopped.buffer).stop();
  t.is(stopped.next(), -1, 'a stop by any thread ends the claiming');
});

test('an object key is claimed once; the exec bit makes another object', (t) => {
  const hex = 'ab'.repeat(64);
  const claims = ObjectClaims.forObjects(10);
  const other = new ObjectClaims(claims.buffer);
  t.true(claims.claim(hex));
  t.false(other.claim(hex), 'the other thread finds it claimed');
  t.true(other.claim(`${hex}-x`), 'executable: another object');
  t.false(claims.claim(`${hex}-x`));
  // more keys than the first table slots, many sharing a slot's low bits: still told apart
  const many = Array.from({ length: 1500 }, (_, i) =>
    ((i % 7) * 4096 + i).toString(16).padStart(6, '0').padEnd(128, '0'),
  );
  const big = ObjectClaims.forObjects(many.length);
  t.true(many.every((k) => big.claim(k)));
  t.true(many.every((k) => !big.claim(k)));
});

test('thread count: off by PSTORE_INGEST_THREADS=1 and for no file, on by =2, by size otherwise', (t) => {
  t.is(ingestThreads(100_000, '1'), 1);
  t.is(ingestThreads(0, '2'), 1);
  // from TypeScript source (tsx) a worker cannot load its .ts module: one thread (dir-threads.ts)
  t.is(ingestThreads(1, '2'), import.meta.url.endsWith('.ts') ? 1 : 2);
  t.is(ingestThreads(THREADED_MIN_FILES - 1, undefined), 1, 'a small tree: one thread');
});

test('a PstoreError crosses from the worker with its code, subject and data', (t) => {
  const sent = sendError(
    new PstoreError('EPSTORE_UNSAFE_PATH', '/src/a: replaced', {
      subject: '/src/a',
      hint: 'h',
      data: { path: 'a' } as never,
    }),
  );
  const back = structuredClone(sent); // what postMessage does to it
  const err = reviveError(back);
  t.true(err instanceof PstoreError);
  t.like(err, { code: 'EPSTORE_UNSAFE_PATH', message: '/src/a: replaced', subject: '/src/a' });
  t.deepEqual((err as PstoreError).data, { path: 'a' });
  t.is((err as PstoreError).hint, 'h');
});

test('a system error crosses with its errno code, syscall and path', (t) => {
  let original: unknown;
  try {
    fs.openSync('/nonexistent/pstore/thread-error', 'r');
  } catch (err) {
    original = err;
  }
  const err = reviveError(structuredClone(sendError(original))) as NodeJS.ErrnoException;
  const o = original as NodeJS.ErrnoException;
  t.like(err, {
    code: o.code,
    errno: o.errno,
    syscall: o.syscall,
    path: o.path,
    message: o.message,
  });
  t.is(reviveError(sendError('not an error')).message, 'not an error');
});
