// A tar of many staged members through node-tar's Pack, with memory bounded by a window of
// members rather than by their count (issue 9: an export of 100k objects peaked near 480 MiB).
// Pack keeps a Stats per member (statCache) and a path per hard-linked inode (linkCache) for
// its whole life, and walks its queue of members each time one is done; here it sees at most
// PACK_WINDOW members at a time, and both caches forget all but the most recent members.

import { Pack, type WriteEntry } from 'tar';

/** Members handed to the pack ahead of the last one it finished: each may buffer its whole file. */
const PACK_WINDOW = 8;

/**
 * Entries a cache keeps: far more than the window, so a member's stat taken by Pack is still there
 * when its WriteEntry asks (no second lstat), and a hard link within the window is still found.
 */
const CACHE_ENTRIES = 16 * PACK_WINDOW;

/** A Map that forgets its oldest key once it holds more than `capacity` (insertion order). */
export class RecentMap<K, V> extends Map<K, V> {
  constructor(private readonly capacity: number) {
    super();
  }

  override set(key: K, value: V): this {
    super.delete(key); // re-setting a key makes it the most recent
    super.set(key, value);
    if (this.size > this.capacity) this.delete(this.keys().next().value as K);
    return this;
  }
}

/**
 * A tar of `members` (paths under `opts.cwd`, produced lazily), fed to Pack PACK_WINDOW at a time:
 * given all at once, 100k members cost quadratic time (an export ran for most of an hour).
 * Members are distinct inodes, so the bounded link cache writes the same bytes as an unbounded one.
 */
export function packWindowed(
  opts: ConstructorParameters<typeof Pack>[0],
  members: Iterator<string>,
): Pack {
  let inFlight = 0;
  let ended = false;
  const feed = () => {
    while (!ended && inFlight < PACK_WINDOW) {
      const next = members.next();
      if (next.done) {
        ended = true; // the pack ends once the members given are written
        pack.end();
      } else {
        inFlight++;
        pack.write(next.value);
      }
    }
  };
  const pack: Pack = new Pack({
    ...opts,
    statCache: new RecentMap(CACHE_ENTRIES),
    linkCache: new RecentMap(CACHE_ENTRIES),
    onWriteEntry: (entry: WriteEntry) =>
      entry.once('end', () => {
        inFlight--;
        feed();
      }),
  });
  feed();
  return pack;
}
