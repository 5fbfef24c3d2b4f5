// GC roots (SPEC.md §GC): every entry named by a retained generation of a registered prefix,
// by the journal of a transaction in flight, or added within the grace period (so an
// `add` → `activate` pipeline never loses its entry to a gc that runs between the two). A prefix
// whose state cannot be found (deleted, or on a volume that is merely unmounted) keeps every entry
// until it has been missing for the missing-prefix grace, or the user says `--forget-missing`.

// Only a prefix whose state is really gone (ENOENT) is missing: any other error stops gc.
import { pathExists } from '../fs/exists.js';
import { errnoCode } from '../core/errors.js';
import {
  listPrefixes,
  unregisterPrefix,
  updatePrefix,
  type PrefixRegistration,
} from '../store/prefixes.js';
import type { ManifestFileInfo } from '../store/manifests.js';
import type { StoreLayout } from '../store/layout.js';
import { prefixPaths } from '../prefix/layout.js';
import { listGenerations } from '../prefix/state.js';
import { readJournal } from '../txn/journal.js';
import { lastAddMs, sinceMs } from './clock.js';
import { fileObjectKey } from '../core/object-key.js';

/** An entry gc considers: an index record, or a manifest the index lacked. */
export interface Candidate {
  id: string;
  name: string;
  version: string;
  lastAddedAt?: string;
  addedAt: string;
}

export interface PrefixRoots {
  keep: Set<string>;
  /** object keys of files --overwrite took over, kept while a generation record or journal names them */
  objects: Set<string>;
  /** registered prefixes whose state exists */
  prefixes: number;
  /** registered prefixes whose state is missing and not yet forgotten (their roots are unknown) */
  missing: string[];
}

export interface RootOptions {
  now: number;
  dryRun: boolean;
  forgetMissing: boolean;
  missingGraceMs: number;
}

export async function collectPrefixRoots(
  layout: StoreLayout,
  opts: RootOptions,
): Promise<PrefixRoots> {
  const roots: PrefixRoots = { keep: new Set(), objects: new Set(), prefixes: 0, missing: [] };
  for (const reg of await listPrefixes(layout)) {
    const paths = prefixPaths(reg.dir, reg.layout);
    if (!(await pathExists(paths.prefixFile))) {
      await onMissing(layout, reg, opts, roots);
      continue;
    }
    roots.prefixes++;
    if (reg.missingSince !== undefined && !opts.dryRun)
      await saveBestEffort(layout, { dir: reg.dir, meta: reg.meta, layout: reg.layout });
    const generations = await listGenerations(paths);
    for (const g of generations) for (const p of g.packages) roots.keep.add(p.id);
    const j = await readJournal(paths);
    for (const p of [...(j?.from.packages ?? []), ...(j?.to.packages ?? [])]) roots.keep.add(p.id);
    const saved = [...generations.map((g) => g.overwritten), j?.overwritten, j?.restore];
    for (const s of saved.flatMap((list) => list ?? []))
      if (s.type === 'file') roots.objects.add(fileObjectKey(s));
  }
  return roots;
}

async function onMissing(
  layout: StoreLayout,
  reg: PrefixRegistration,
  opts: RootOptions,
  roots: PrefixRoots,
): Promise<void> {
  const since = sinceMs(opts.now, reg.missingSince);
  if (opts.forgetMissing || opts.now - since >= opts.missingGraceMs) {
    if (!opts.dryRun) await unregisterPrefix(layout, reg.meta); // gone for good: it roots nothing
    return;
  }
  roots.missing.push(reg.dir);
  if (reg.missingSince === undefined && !opts.dryRun)
    await saveBestEffort(layout, { ...reg, missingSince: new Date(opts.now).toISOString() });
}

/** On a full disk the note cannot be written; the prefix still counts as missing, and the next gc notes it. */
async function saveBestEffort(layout: StoreLayout, reg: PrefixRegistration): Promise<void> {
  try {
    await updatePrefix(layout, reg);
  } catch (err) {
    if (errnoCode(err) !== 'ENOSPC' && errnoCode(err) !== 'EDQUOT') throw err;
  }
}

/**
 * Which candidates to keep: the prefixes' roots, every entry last added within the grace period
 * (by the newest of its times, clock.ts), and, while a prefix is missing, every entry that has a
 * manifest file.
 */
export function keptEntries(
  candidates: readonly Candidate[],
  files: ReadonlyMap<string, ManifestFileInfo>,
  roots: PrefixRoots,
  opts: { now: number; graceMs: number },
): Set<string> {
  const keep = new Set(roots.keep);
  for (const c of candidates) {
    const file = files.get(c.id);
    if (roots.missing.length > 0 && file) keep.add(c.id);
    if (opts.now - lastAddMs(opts.now, c.lastAddedAt ?? c.addedAt, file) < opts.graceMs)
      keep.add(c.id);
  }
  return keep;
}
