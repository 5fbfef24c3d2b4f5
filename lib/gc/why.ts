// `gc --why REF` (SPEC.md §GC, why): which roots keep an entry — the generations of registered
// prefixes that name it, a transaction in flight, a missing prefix (which keeps everything), or
// only the grace period — or that nothing does and gc would remove it. The same rules as
// roots.ts, read without changing anything (no registration is noted or forgotten).

import type { EntryRecord } from '../core/types.js';
import { lockStore, type StoreContext } from '../store/context.js';
import { listManifestFiles } from '../store/manifests.js';
import { listPrefixes } from '../store/prefixes.js';
import { prefixPaths } from '../prefix/layout.js';
import { listGenerations, readCurrent, readPrefixRecord } from '../prefix/state.js';
import { readJournal } from '../txn/journal.js';
import { lastAddMs } from './clock.js';
import { DEFAULT_GRACE_MS } from './collect.js';

/** How one prefix holds an entry against gc. */
export interface PrefixHold {
  /** the prefix directory */
  prefix: string;
  /** the generations of this prefix that name the entry, oldest first */
  generations: number[];
  /** whether the current generation is one of them */
  current: boolean;
  /** whether a transaction in flight (its journal) names the entry */
  transaction: boolean;
}

/** Why gc keeps an entry, or that it would not ({@link Store.whyKept}). */
export interface GcWhy {
  /** the entry id */
  id: string;
  /** the package name */
  name: string;
  /** the package version */
  version: string;
  /** whether gc (with the same grace) would keep the entry */
  kept: boolean;
  /** registered prefixes whose generations or journal name the entry */
  prefixes: PrefixHold[];
  /** registered prefixes whose state is missing: while one is, gc keeps every entry */
  missingPrefixes: string[];
  /** the newest time the entry was added (recorded, or its manifest's times), ISO */
  lastAddedAt: string;
  /** the grace period applied, in milliseconds (default 24 h) */
  graceMs: number;
  /** last added within the grace period (by this host's clock) */
  withinGrace: boolean;
}

export async function explainKeep(
  ctx: StoreContext,
  entry: EntryRecord,
  opts: { graceMs?: number } = {},
): Promise<GcWhy> {
  await using _lock = await lockStore(ctx, 'shared');
  const now = Date.now();
  const graceMs = opts.graceMs ?? DEFAULT_GRACE_MS;
  const file = (await listManifestFiles(ctx.layout)).find((f) => f.id === entry.id);
  const last = lastAddMs(now, entry.lastAddedAt ?? entry.addedAt, file);
  const { prefixes, missingPrefixes } = await holdsOf(ctx, entry.id);
  const withinGrace = now - last < graceMs;
  return {
    id: entry.id,
    name: entry.name,
    version: entry.version,
    kept: prefixes.length > 0 || missingPrefixes.length > 0 || withinGrace,
    prefixes,
    missingPrefixes,
    lastAddedAt: new Date(last).toISOString(),
    graceMs,
    withinGrace,
  };
}

async function holdsOf(ctx: StoreContext, id: string) {
  const prefixes: PrefixHold[] = [];
  const missingPrefixes: string[] = [];
  for (const reg of await listPrefixes(ctx.layout)) {
    const paths = prefixPaths(reg.dir, reg.layout);
    if (!(await readPrefixRecord(paths))) {
      missingPrefixes.push(reg.dir);
      continue;
    }
    const current = (await readCurrent(paths)).generation;
    const generations = (await listGenerations(paths))
      .filter((g) => g.packages.some((p) => p.id === id))
      .map((g) => g.generation);
    const j = await readJournal(paths);
    const transaction = [...(j?.from.packages ?? []), ...(j?.to.packages ?? [])].some(
      (p) => p.id === id,
    );
    if (generations.length || transaction)
      prefixes.push({
        prefix: reg.dir,
        generations,
        current: generations.includes(current),
        transaction,
      });
  }
  return { prefixes, missingPrefixes };
}
