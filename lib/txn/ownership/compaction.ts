// Letting LevelDB finish the compaction it has due before the ownership index is closed (SPEC.md
// §Ownership index, *Compaction*). Each open turns the previous transaction's log into a new level-0
// table, and every one of those spans the whole key range (the root's record `d:` and the meta
// record `m` are in every batch). LevelDB starts merging them at its own trigger (4 files at level
// 0), in a background thread, but a close stops that merge and throws its output away: a process
// that opens the index for one transaction never lets it end. Level 0 then grows by a table per
// transaction, every read looks in each, and every open restarts a merge of the whole index
// (the 11 MB of a 100k-file prefix) that burns the second core and the disk for nothing.

import { nowMs } from '../../core/clock.js';

/** LevelDB's own size rules (version_set.cc): level 0 by files, level L ≥ 1 by 10^L MiB. */
const LEVEL0_TRIGGER = 4;
const LEVEL1_BYTES = 10 * 1024 * 1024;

/**
 * Whether LevelDB's size rules call for a compaction, read from its `leveldb.sstables` listing
 * (`--- level N ---` headers, then one ` NUMBER:BYTES[...]` line per table).
 */
export function compactionDue(sstables: string): boolean {
  const files: number[] = [];
  const bytes: number[] = [];
  let level = -1;
  for (const line of sstables.split('\n')) {
    const header = /^--- level (\d+) ---$/.exec(line);
    if (header) {
      level = Number(header[1]);
      files[level] = 0;
      bytes[level] = 0;
      continue;
    }
    const table = /^ *\d+:(\d+)\[/.exec(line);
    if (table && level >= 0) {
      files[level]! += 1;
      bytes[level]! += Number(table[1]);
    }
  }
  if ((files[0] ?? 0) >= LEVEL0_TRIGGER) return true;
  // The last level has no limit: nothing lies below it to merge into.
  for (let l = 1; l < bytes.length - 1; l++)
    if (bytes[l]! >= LEVEL1_BYTES * 10 ** (l - 1)) return true; // LevelDB: score >= 1
  return false;
}

/** What this module needs of a LevelDB handle: classic-level's, whose methods abstract-level's types do not name. */
export interface ClassicHandle {
  getProperty?: (property: string) => string;
  compactRange?: (start: string, end: string) => Promise<void>;
}

/**
 * Compact every level now (a rebuilt index, written as one batch: else it is one level-0 table at
 * the next open, and the first merge due later rewrites all of it). Every key starts with an ASCII
 * letter, so '' to U+FFFF covers them.
 */
export async function compactAll(db: ClassicHandle): Promise<void> {
  await db.compactRange?.('', '\uffff');
}

/** How often the listing is read while a compaction runs, and for how long at most. */
const POLL_MS = 2;
export const SETTLE_LIMIT_MS = 60_000;

/**
 * Wait until LevelDB has no compaction due. A merge always ends, but LevelDB stops compacting after
 * a write error of its own (a full disk), and the rule would then call for one for ever: hence the
 * bound, far above any merge's time (the first merge of level 0 after a big batch rewrites that
 * batch: ~0.5 s for the 96 MB index of a 1M-file prefix here). A close after it stops the merge,
 * and the next open starts it again.
 */
export async function settleCompaction(
  db: ClassicHandle,
  limitMs = SETTLE_LIMIT_MS,
): Promise<void> {
  if (typeof db.getProperty !== 'function') return; // another abstract-level: nothing to wait for
  const deadline = nowMs() + limitMs;
  while (compactionDue(db.getProperty('leveldb.sstables')) && nowMs() < deadline)
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
}
