// GC roots: the entries gc must keep. Today every recorded entry is a root; transactions add
// generations of registered prefixes and in-flight journals here (SPEC.md §GC).

import { listEntries } from '../db/entries.js';
import type { IndexDb } from '../db/index-db.js';
import type { EntryRecord } from '../types.js';

export interface Roots {
  /** entries to keep */
  keep: Set<string>;
  /** entries recorded in the index that are not roots: gc forgets them */
  unreferenced: EntryRecord[];
}

export async function collectRoots(db: IndexDb): Promise<Roots> {
  const entries = await listEntries(db);
  return { keep: new Set(entries.map((e) => e.id)), unreferenced: [] };
}
