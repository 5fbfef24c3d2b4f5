// `verify --prefix` checks the ownership index against the manifests it is derived from.
// A missing index, one describing another package set (behind: a crash after commit), or one an
// older pstore wrote in another format (reported behind) is not damage: the next transaction catches it up. An index that claims the committed set but whose
// entries differ from a rebuild, or that cannot be read, is damage (exit 4); `verify --prefix
// --repair` or the next transaction rebuilds it.

import { isLocked } from '../../store/index-health.js';
import { constants as fsConstants, promises as fsp } from 'node:fs';
import type { PrefixPaths } from '../../prefix/layout.js';
import type { PlanPackage } from '../plan.js';
import { DamagedIndex, OtherFormatIndex, OwnershipDb } from './db.js';
import { deriveEntries, sameEntry, setDigest, type OwnerEntry } from './entry.js';

/** The state of a prefix's ownership index (the path-to-owner database), checked against the manifests. */
export interface OwnershipIndexCheck {
  /** unchecked: another reader has it open, or this user may not open it */
  state: 'ok' | 'missing' | 'behind' | 'damaged' | 'unchecked';
  /** paths whose entry differs from one derived from the manifests (the first 20) */
  differing: string[];
}

export async function checkOwnershipIndex(
  p: PrefixPaths,
  committed: readonly PlanPackage[],
): Promise<OwnershipIndexCheck> {
  let db: OwnershipDb | undefined;
  // LevelDB opens for writing: a reader who may not write the state directory cannot check it.
  if (
    !(await fsp.access(p.meta, fsConstants.W_OK).then(
      () => true,
      () => false,
    ))
  )
    return { state: 'unchecked', differing: [] };
  try {
    db = await OwnershipDb.open(p);
    if (!db) return { state: 'missing', differing: [] };
    if ((await db.meta()).digest !== setDigest(committed.map((c) => c.ref)))
      return { state: 'behind', differing: [] };
    const differing = differences(await db.all(), deriveEntries(committed));
    return { state: differing.length ? 'damaged' : 'ok', differing: differing.slice(0, 20) };
  } catch (err) {
    if (isLocked(err)) return { state: 'unchecked', differing: [] };
    if (err instanceof OtherFormatIndex) return { state: 'behind', differing: [] };
    if (err instanceof DamagedIndex) return { state: 'damaged', differing: [] };
    throw err;
  } finally {
    await db?.close();
  }
}

function differences(
  stored: ReadonlyMap<string, OwnerEntry>,
  derived: ReadonlyMap<string, OwnerEntry>,
): string[] {
  const out: string[] = [];
  for (const [rel, e] of derived) {
    const s = stored.get(rel);
    if (!s || !sameEntry(s, e)) out.push(rel);
  }
  for (const rel of stored.keys()) if (!derived.has(rel)) out.push(rel);
  return out.sort();
}
