// allSettledInOrder (lib/core/settle.ts): independent waits side by side, every one of them over
// before anything is thrown, and the error the first failing argument's, whichever failed first.

import test from 'ava';
import { allSettledInOrder } from '../../lib/core/settle.js';

const later = <T>(ms: number, value: T) => new Promise<T>((r) => setTimeout(() => r(value), ms));
const failLater = (ms: number, message: string) =>
  new Promise<never>((_, reject) => setTimeout(() => reject(new Error(message)), ms));

test('gives every value, in argument order', async (t) => {
  t.deepEqual(await allSettledInOrder([later(20, 'a'), later(1, 2), Promise.resolve(true)]), [
    'a',
    2,
    true,
  ]);
});

test('throws the first failure in argument order, not the first in time', async (t) => {
  await t.throwsAsync(
    () => allSettledInOrder([later(1, 'a'), failLater(30, 'second'), failLater(1, 'third')]),
    {
      message: 'second',
    },
  );
});

test('throws only once every promise has settled: nothing is left running', async (t) => {
  let done = false;
  const slow = later(40, 'slow').then((v) => {
    done = true;
    return v;
  });
  await t.throwsAsync(() => allSettledInOrder([failLater(1, 'early'), slow]), { message: 'early' });
  t.true(done, 'the slow one had finished');
});
