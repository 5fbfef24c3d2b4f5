// lib/core/errors.ts isPstoreError: a PstoreError made by another copy of the module (the CLI's
// CommonJS `status` bundle meets one from the recovery it imports as an ES module) is known by its
// name and a code pstore defines; nothing else passes for one.

import test from 'ava';
import { PstoreError, environmentError, isPstoreError } from '../../lib/core/errors.js';

/** What another copy's `new PstoreError(code, message)` looks like from here. */
function foreign(code: string): Error {
  const err = new Error('from another copy') as Error & { code: string };
  err.name = 'PstoreError';
  err.code = code;
  return err;
}

test("one of this copy's, or of another's with a known code", (t) => {
  t.true(isPstoreError(new PstoreError('EPSTORE_BUSY', 'x')));
  t.true(isPstoreError(foreign('EPSTORE_BUSY')));
  t.true(isPstoreError(foreign('EPSTORE_BUSY'), 'EPSTORE_BUSY'));
  t.false(isPstoreError(foreign('EPSTORE_BUSY'), 'EPSTORE_CONFLICT'));
});

test('not an unknown code, another name, a plain object or an errno error', (t) => {
  t.false(isPstoreError(foreign('EPSTORE_NO_SUCH_CODE')));
  t.false(isPstoreError(Object.assign(new Error('x'), { code: 'EPSTORE_BUSY' })));
  t.false(isPstoreError({ name: 'PstoreError', code: 'EPSTORE_BUSY' }));
  t.false(isPstoreError(Object.assign(new Error('x'), { code: 'ENOENT' })));
});

test("environmentError leaves another copy's error as it is", (t) => {
  const err = foreign('EPSTORE_PERMISSION');
  t.is(environmentError(err), err);
});
