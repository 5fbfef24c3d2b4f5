import test from 'ava';
import { compareVersions } from '../../lib/core/version.js';

test('versions order as dpkg orders them', (t) => {
  const ascending = [
    '0.9',
    '1.0~rc1',
    '1.0',
    '1.0a',
    '1.0-1',
    '1.0.1',
    '1.2',
    '1.9',
    '1.10',
    '2.0',
    '1:0.1',
  ];
  const shuffled = [...ascending].reverse();
  t.deepEqual(shuffled.sort(compareVersions), ascending);
  t.true(compareVersions('1.24.2-1+deb12u1', '1.24.2-1') > 0);
  t.is(compareVersions('3.0.0', '3.0.0'), 0);
  t.is(compareVersions('007', '7'), 0);
});
