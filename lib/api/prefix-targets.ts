// What each prefix operation asks a transaction to produce: the package set it should end with
// (runTransaction's `target`). Pure choices over the current set and the refs the caller gave.

import { PstoreError, isPstoreError } from '../core/errors.js';
import type { LayoutKind } from '../core/names.js';
import type { PackageRef } from '../core/package-ref.js';
import { lockedPackages, type Lockfile } from '../transfer/lockfile.js';
import type { Target, TargetContext } from '../txn/run.js';
import { refuseDuplicateNames } from '../txn/ops.js';
import { sameSet } from '../txn/packages.js';

export { opsTarget, type Op } from '../txn/ops.js';

/** Exactly `refs`, whatever is active now. */
export async function syncTarget(refs: readonly string[], t: TargetContext): Promise<Target> {
  const packages = await Promise.all(refs.map((r) => t.resolve(r)));
  refuseDuplicateNames(packages);
  return { packages };
}

/**
 * Generation `to`, or the newest one before the current generation. `--to 0` returns an `inplace`
 * prefix to the state before its first transaction (no package), which puts back what that
 * transaction took over (SPEC.md §Overwrite): no other generation is older. A `generations` prefix
 * has no tree 0.
 */
export async function rollbackTarget(
  dir: string,
  to: number | undefined,
  t: TargetContext,
): Promise<Target> {
  const others = (await t.generationNumbers()).filter((n) => n !== t.currentGeneration);
  const chosen = to ?? others.filter((n) => n < t.currentGeneration).pop();
  const before = to === 0 && t.layout === 'inplace';
  const known = chosen !== undefined && (chosen >= 1 || before);
  const packages = known ? await t.generation(chosen) : undefined;
  if (chosen === undefined || packages === undefined) {
    throw new PstoreError(
      'EPSTORE_NOT_FOUND',
      to === undefined
        ? `no generation before ${t.currentGeneration} in ${dir}`
        : `generation ${to} does not exist in ${dir}`,
      {
        subject: String(to ?? t.currentGeneration),
        hint: otherGenerationsHint(others, t.layout),
        data: { generations: others },
      },
    );
  }
  if (chosen === t.currentGeneration)
    throw new PstoreError('EPSTORE_USAGE', `generation ${chosen} is already current`, {
      subject: String(chosen),
    });
  return { packages, existingGeneration: chosen };
}

/** Where a rollback that found nothing below the current generation could go instead. */
function otherGenerationsHint(others: readonly number[], layout: LayoutKind): string {
  const first =
    layout === 'inplace'
      ? '; pstore rollback --to 0 returns to the prefix before generation 1'
      : '';
  if (!others.length) return `it is the only generation${first}`;
  return `other generations: ${others.join(', ')}; pstore rollback --to GEN returns to one of them${first}`;
}

/** The lockfile's set, each entry as locked (id, name and version); every missing one named at once. */
export async function lockfileTarget(lock: Lockfile, t: TargetContext): Promise<Target> {
  const wanted = lockedPackages(lock);
  // The prefix holds exactly the lockfile's entries already: nothing to resolve, and a sync that
  // changes nothing opens no store index (its open compacts and flushes the index's log).
  if (holdsExactly(t.current, wanted)) return { packages: t.current };
  const found = await Promise.all(wanted.map((w) => resolveIfPresent(t, w.id)));
  const missing = wanted
    .filter((_, i) => found[i] === undefined)
    .map((w) => `${w.name}@${w.version} (${w.id})`);
  if (missing.length) {
    throw new PstoreError(
      'EPSTORE_NOT_FOUND',
      `${missing.length} locked ${missing.length === 1 ? 'entry is' : 'entries are'} not in the store: ${missing.join(', ')}`,
      { subject: missing.join(', '), data: { missing } },
    );
  }
  const packages = found as PackageRef[];
  packages.forEach((p, i) => {
    const w = wanted[i]!;
    if (p.id !== w.id || p.name !== w.name || p.version !== w.version) {
      throw new PstoreError(
        'EPSTORE_INVALID',
        `the lockfile names ${w.id} ${w.name}@${w.version}, but that entry is ${p.name}@${p.version}`,
        { subject: w.name },
      );
    }
  });
  return { packages };
}

/** Whether `current` is exactly the lockfile's set: the same ids, names and versions. */
export function holdsLockfile(current: readonly PackageRef[], lock: Lockfile): boolean {
  return holdsExactly(current, lockedPackages(lock));
}

/** Whether `current` is `wanted` as a set (sameSet: the same ids), each with its name and version. */
function holdsExactly(current: readonly PackageRef[], wanted: readonly PackageRef[]): boolean {
  if (!sameSet(current, wanted)) return false;
  const byId = new Map(current.map((p) => [p.id, p]));
  return wanted.every(
    (w) => byId.get(w.id)?.name === w.name && byId.get(w.id)?.version === w.version,
  );
}

async function resolveIfPresent(t: TargetContext, ref: string): Promise<PackageRef | undefined> {
  try {
    return await t.resolve(ref);
  } catch (err) {
    if (isPstoreError(err, 'EPSTORE_NOT_FOUND')) return undefined;
    throw err;
  }
}
