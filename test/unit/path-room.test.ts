// lib/txn/path-room.ts: a path that cannot be placed under DIR (with room for pstore's temp names)
// or that holds a name over NAME_MAX is refused before any change; a long path of short names
// that fits is not (SPEC.md §Check, S10).

import test from 'ava';
import { refuses } from '../_helpers/errors.js';
import { MAX_NAME_BYTES, MAX_PATH_BYTES } from '../../lib/core/safe-path.js';
import { refuseUnplaceable, TEMP_NAME_ROOM } from '../../lib/txn/path-room.js';

const ROOT = '/p';

/** A relative path of exactly `bytes` ASCII bytes, in names of 49 characters. */
function longPath(bytes: number): string {
  const rel = `${'n'.repeat(49)}/`.repeat(Math.ceil(bytes / 50)).slice(0, bytes);
  return rel.endsWith('/') ? `${rel.slice(0, -1)}n` : rel;
}

test('a path that fits with the temp names passes; one byte more is EPSTORE_UNSAFE_PATH naming it', (t) => {
  const room = MAX_PATH_BYTES - ROOT.length - 1 - TEMP_NAME_ROOM;
  const fits = longPath(room);
  t.is(Buffer.byteLength(fits), room);
  t.notThrows(() => refuseUnplaceable(ROOT, [fits]));
  const over = `${fits}n`;
  refuses(t, () => refuseUnplaceable(ROOT, [over]), 'EPSTORE_UNSAFE_PATH', `${ROOT}/${over}`);
});

test('multi-byte characters count as bytes: a path short in characters can still be too long', (t) => {
  // 3 bytes each: fits in characters, not in bytes
  const chars = Math.floor((MAX_PATH_BYTES - ROOT.length - 1 - TEMP_NAME_ROOM) / 3) + 10;
  const rel = Array.from({ length: Math.ceil(chars / 40) }, () => '€'.repeat(40)).join('/');
  refuses(t, () => refuseUnplaceable(ROOT, [rel]), 'EPSTORE_UNSAFE_PATH', `${ROOT}/${rel}`);
});

test('a name over NAME_MAX bytes is refused, in ASCII and in multi-byte characters; at NAME_MAX it passes', (t) => {
  t.notThrows(() => refuseUnplaceable(ROOT, [`a/${'n'.repeat(MAX_NAME_BYTES)}`]));
  const ascii = `a/${'n'.repeat(MAX_NAME_BYTES + 1)}`;
  refuses(t, () => refuseUnplaceable(ROOT, [ascii]), 'EPSTORE_UNSAFE_PATH', `${ROOT}/${ascii}`);
  // 86 characters of 3 bytes: 258 bytes, the shortest name in characters that is too long
  const wide = `a/${'€'.repeat(86)}`;
  refuses(t, () => refuseUnplaceable(ROOT, [wide]), 'EPSTORE_UNSAFE_PATH', `${ROOT}/${wide}`);
  t.notThrows(() => refuseUnplaceable(ROOT, [`a/${'€'.repeat(85)}`]));
});

test('a name too long is found first, in the middle or last of a path; runs of 85 characters between slashes pass', (t) => {
  const wide = '€'.repeat(86);
  for (const rel of [`${wide}/a`, `a/${wide}/b/c`, `a/b/${wide}`])
    refuses(t, () => refuseUnplaceable(ROOT, [rel]), 'EPSTORE_UNSAFE_PATH', `${ROOT}/${rel}`);
  const fits = ['€'.repeat(85), '€'.repeat(85), '€'.repeat(85)].join('/');
  t.notThrows(() => refuseUnplaceable(ROOT, [fits]));
});
