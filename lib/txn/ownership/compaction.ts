// Letting LevelDB finish the compaction it has due before the ownership index is closed (SPEC.md
// §Ownership index, *Compaction*). Each open turns the previous transaction's log into a new level-0
// table, and every one of those spans the whole key range (the root's record `d:` and the meta
// record `m` are in every batch). LevelDB starts merging them at its own trigger (4 files at level
// 0), in a background thread, but a close stops that merge and throws its output away: a process
// that opens the index for one transaction never lets it end. Level 0 then grows by a table per
// transaction, every read looks in each, and every open restarts a merge of the whole index
// (the 11 MB of a 100k-file prefix) that burns the second core and the disk for nothing.

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
    if (bytes[l]! > LEVEL1_BYTES * 10 ** (l - 1)) return true;
  return false;
}

/** What {@link settleCompaction} needs of a LevelDB handle (classic-level's). */
export interface PropertySource {
  getProperty?: (property: string) => string;
}

/** How often the listing is read while a compaction runs, and for how long at most. */
const POLL_MS = 2;
export const SETTLE_LIMIT_MS = 5000;

/**
 * Wait until LevelDB has no compaction due, for at most `limitMs` (a close after that stops the
 * merge, and the next open starts it again). One merge is bounded by LevelDB (about 25 tables); a
 * small transaction's due merge rewrites the few tables its keys overlap.
 */
export async function settleCompaction(
  db: PropertySource,
  limitMs = SETTLE_LIMIT_MS,
): Promise<void> {
  if (typeof db.getProperty !== 'function') return; // another abstract-level: nothing to wait for
  const deadline = performance.now() + limitMs;
  while (compactionDue(db.getProperty('leveldb.sstables')) && performance.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
}
