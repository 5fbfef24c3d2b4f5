// A writer closes the ownership index only once LevelDB has done the compaction it has due
// (lib/txn/ownership/compaction.ts), and a rebuilt one is put in levels at once. Each open turns
// the last batch's log into a level-0 table spanning the whole key range; a close that stops
// LevelDB's merge leaves them all there, and level 0 grows by one table per transaction. Real
// LevelDB, real files: an index of ~10 MB, so that its merge outlasts the open-write-close of a
// small transaction.

import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { Level } from 'level';
import { prefixPaths, type PrefixPaths } from '../../lib/prefix/layout.js';
import { OwnershipDb, rebuildAside } from '../../lib/txn/ownership/db.js';
import { indexMeta, type OwnerEntry } from '../../lib/txn/ownership/entry.js';
import { compactionDue, type ClassicHandle } from '../../lib/txn/ownership/compaction.js';
import { tempDir } from '../_helpers/tmp.js';

/** A regular file's entry owned by `owner`. */
function fileEntry(rel: string, owner: string): OwnerEntry {
  return {
    file: {
      path: rel,
      type: 'file',
      size: 1,
      exec: false,
      integrity: `sha512-${randomBytes(64).toString('base64')}`,
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
    const listing = (db as unknown as Required<ClassicHandle>).getProperty('leveldb.sstables');
    const zero = listing.split('--- level 1 ---')[0]!;
    return {
      tables: zero.split('\n').filter((l) => /^ *\d+:\d+\[/.test(l)).length,
      due: compactionDue(listing),
    };
  } finally {
    await db.close();
  }
}

/** 40,000 paths in 400 directories, each its own digest: ~10 MB of records, as real ones compress. */
function bigSet(): Map<string, OwnerEntry> {
  const big = new Map<string, OwnerEntry>();
  for (let d = 0; d < 400; d++)
    for (let f = 0; f < 100; f++) {
      const rel = `usr/lib/pkg/d${d}/module_with_a_long_name_${f}.py`;
      big.set(rel, fileEntry(rel, 'big'));
    }
  return big;
}

/** A new prefix's state directory. */
async function statePaths(t: ExecutionContext): Promise<PrefixPaths> {
  const dir = await tempDir(t, 'compaction');
  const p = prefixPaths(path.join(dir, 'prefix'), 'inplace');
  await fsp.mkdir(p.meta, { recursive: true });
  return p;
}

test('a rebuilt index is in levels already: nothing at level 0, nothing due', async (t) => {
  const p = await statePaths(t);
  await rebuildAside(p, bigSet(), indexMeta(1, []));
  t.deepEqual(await levelZeroTables(p.ownership), { tables: 0, due: false });
});

test('after many small transactions level 0 stays under LevelDB trigger: each hold lets the due merge finish', async (t) => {
  // As a new prefix's first transaction makes it: the empty index, then one batch of every entry,
  // which the next open turns into one level-0 table.
  const p = await statePaths(t);
  const first = await OwnershipDb.createEmpty(p, indexMeta(0, []));
  await first.write(bigSet(), indexMeta(1, []));
  await first.close();
  // Small batches, each touching the root's record and the meta (as every transaction does), each
  // ended as a writer ends its hold of the index (run.ts: settle, then close).
  for (let g = 2; g < 14; g++) {
    const db = (await OwnershipDb.open(p))!;
    const rel = `small${g}`;
    await db.write([[rel, fileEntry(rel, `small${g}`)]], indexMeta(g, []));
    await db.settle();
    await db.close();
  }
  // At most LevelDB's trigger: what the last hold's merge left (under 4), and the table this open
  // makes of the last batch's log. Without the wait: one per transaction.
  const after = await levelZeroTables(p.ownership);
  t.true(after.tables <= 4, `${after.tables} tables at level 0`);
  const db = (await OwnershipDb.open(p))!;
  t.deepEqual(await db.meta(), indexMeta(13, []), 'the last batch is the index');
  await db.close();
});
