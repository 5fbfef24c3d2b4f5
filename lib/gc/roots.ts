// GC roots (SPEC.md §GC roots): every entry named by a retained generation of a registered prefix,
// by the journal of a transaction in flight, or added within the grace period (so an
// `add` → `activate` pipeline never loses its entry to a gc that runs between the two).

import { promises as fsp } from 'node:fs';
import { listEntries } from '../db/entries.js';
import { errnoCode } from '../errors.js';
import type { IndexDb } from '../db/index-db.js';
import { listPrefixes, unregisterPrefix } from '../store/prefixes.js';
import type { StoreLayout } from '../store/layout.js';
import { prefixPaths } from '../prefix/layout.js';
import { listGenerations } from '../prefix/state.js';
import { readJournal } from '../txn/journal.js';
import type { EntryRecord } from '../types.js';

export interface Roots {
  /** entries to keep */
  keep: Set<string>;
  /** entries recorded in the index that are not roots: gc forgets them */
  unreferenced: EntryRecord[];
  prefixes: number;
  /** every entry id the index records */
  indexed: Set<string>;
}

export async function collectRoots(db: IndexDb, layout: StoreLayout, opts: { graceMs: number; dryRun: boolean; now?: number }): Promise<Roots> {
  const keep = new Set<string>();
  let prefixes = 0;
  for (const reg of await listPrefixes(layout)) {
    const paths = prefixPaths(reg.dir, reg.layout);
    if (!(await exists(paths.prefixFile))) {
      if (!opts.dryRun) await unregisterPrefix(layout, reg.meta); // the prefix was deleted: it roots nothing
      continue;
    }
    prefixes++;
    for (const g of await listGenerations(paths)) for (const p of g.packages) keep.add(p.id);
    const j = await readJournal(paths);
    for (const p of [...(j?.from.packages ?? []), ...(j?.to.packages ?? [])]) keep.add(p.id);
  }
  const cutoff = (opts.now ?? Date.now()) - opts.graceMs;
  const entries = await listEntries(db);
  for (const e of entries) if (Date.parse(e.lastAddedAt ?? e.addedAt) > cutoff) keep.add(e.id);
  return { keep, unreferenced: entries.filter((e) => !keep.has(e.id)), prefixes, indexed: new Set(entries.map((e) => e.id)) };
}

/** Only a prefix whose state is really gone (ENOENT) stops rooting; any other error stops gc. */
async function exists(p: string): Promise<boolean> {
  try {
    await fsp.lstat(p);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return false;
    throw err;
  }
}
