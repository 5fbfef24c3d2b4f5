// The ownership index is closed only once LevelDB has done the compaction it has due
// (lib/txn/ownership/compaction.ts). Each open turns the last batch's log into a level-0 table
// spanning the whole key range; a close that stops LevelDB's merge leaves them all there, and
// level 0 grows by one table per transaction. Real LevelDB, real files: an index of a few MB, so
// that its merge outlasts the open-write-close of a small transaction.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { Level } from 'level';
import { prefixPaths } from '../../lib/prefix/layout.js';
import { OwnershipDb, rebuildAside } from '../../lib/txn/ownership/db.js';
import { indexMeta, type OwnerEntry } from '../../lib/txn/ownership/entry.js';
import { compactionDue, type PropertySource } from '../../lib/txn/ownership/compaction.js';
import { tempDir } from '../_helpers/tmp.js';

/** A regular file's entry owned by `owner`. */
function fileEntry(rel: string, owner: string): OwnerEntry {
  return {
    file: {
      path: rel,
      type: 'file',
      size: 1,
      exec: false,
      integrity: `sha512-${'A'.repeat(86)}==`,
    },
    owners: [owner],
  };
}

/** Tables at level 0 of the index at `dir`, from LevelDB's own listing. */
async function levelZeroTables(dir: string): Promise<{ tables: number; due: boolean }> {
  const db = new Level<string, string>(dir, { createIfMissing: false });
  await db.open();
  try {
    // Level is classic-level's on Node, whose getProperty abstract-level's types do not name.
    const listing = (db as unknown as Required<PropertySource>).getProperty('leveldb.sstables');
    const zero = listing.split('--- level 1 ---')[0]!;
    return {
      tables: zero.split('\n').filter((l) => /^ *\d+:\d+\[/.test(l)).length,
      due: compactionDue(listing),
    };
  } finally {
    await db.close();
  }
}

test('after many small transactions level 0 stays under LevelDB trigger: each close lets the due merge finish', async (t) => {
  const dir = await tempDir(t, 'compaction');
  const p = prefixPaths(path.join(dir, 'prefix'), 'inplace');
  await fsp.mkdir(p.meta, { recursive: true });
  // 40,000 paths in 400 directories: several MB of records.
  const big = new Map<string, OwnerEntry>();
  for (let d = 0; d < 400; d++)
    for (let f = 0; f < 100; f++) {
      const rel = `usr/lib/pkg/d${d}/module_with_a_long_name_${f}.py`;
      big.set(rel, fileEntry(rel, 'big'));
    }
  await rebuildAside(p, big, indexMeta(1, []));
  // Small batches, each touching the root's record and the meta (as every transaction does).
  for (let g = 2; g < 14; g++) {
    const db = (await OwnershipDb.open(p))!;
    const rel = `small${g}`;
    await db.write([[rel, fileEntry(rel, `small${g}`)]], indexMeta(g, []));
    await db.close();
  }
  const after = await levelZeroTables(p.ownership);
  t.false(after.due, 'no compaction left due');
  t.true(after.tables < 4, `${after.tables} tables at level 0`);
  const db = (await OwnershipDb.open(p))!;
  t.deepEqual(await db.meta(), indexMeta(13, []), 'the last batch is the index');
  await db.close();
});
