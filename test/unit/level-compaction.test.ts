// LevelDB's size rules as compactionDue reads them from its `leveldb.sstables` listing
// (lib/txn/ownership/compaction.ts). The listings are in LevelDB's own format (version_set.cc).

import test from 'ava';
import { compactionDue } from '../../lib/txn/ownership/compaction.js';

/** A listing with these tables' sizes at each level (seven levels, as LevelDB prints). */
function listing(levels: number[][]): string {
  const out: string[] = [];
  for (let l = 0; l < 7; l++) {
    out.push(`--- level ${l} ---`);
    (levels[l] ?? []).forEach((bytes, i) =>
      out.push(` ${10 + i}:${bytes}['d:' @ 5 : 1 .. 'm' @ 6 : 1]`),
    );
  }
  return `${out.join('\n')}\n`;
}

const MiB = 1024 * 1024;

test('four tables at level 0 are due, three are not', (t) => {
  t.true(compactionDue(listing([[472, 645, 472, 645]])));
  t.false(compactionDue(listing([[472, 645, 472]])));
});

test('a level of 10^L MiB or more is due; the last level has no limit', (t) => {
  t.true(compactionDue(listing([[], [6 * MiB, 5 * MiB]])));
  t.true(compactionDue(listing([[], [5 * MiB, 5 * MiB]])), 'exactly the limit: a score of 1');
  t.false(compactionDue(listing([[], [5 * MiB, 5 * MiB - 1]])));
  t.true(compactionDue(listing([[], [], [101 * MiB]])));
  t.false(compactionDue(listing([[], [], [99 * MiB]])));
  t.false(compactionDue(listing([[], [], [], [], [], [], [50000 * MiB]])));
});

test('an empty listing, or one of another shape, is not due', (t) => {
  t.false(compactionDue(listing([])));
  t.false(compactionDue(''));
  t.false(compactionDue('something else\n 1:99999999999[x]\n'));
});
