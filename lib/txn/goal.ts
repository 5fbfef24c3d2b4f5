// The package set a transaction moves to: the caller's target function, given the current set and
// a way to resolve refs (one index session) or read existing generations (rollback). Shared by the
// real run (run.ts) and the dry run (preview.ts), so both resolve the same way and fail the same way.

import { PstoreError } from '../core/errors.js';
import type { PackageRef } from '../core/package-ref.js';
import type { EntryRecord } from '../core/types.js';
import type { LayoutKind } from '../core/names.js';
import type { PrefixPaths } from '../prefix/layout.js';
import { listGenerationNumbers, readGeneration } from '../prefix/state.js';
import { resolveRef } from '../store/index-entries.js';
import type { IndexDb } from '../store/index-db.js';
import { useIndex, type StoreContext } from '../store/context.js';
import type { TxnKind } from './journal.js';
import { toPackageRef } from './packages.js';

export interface TargetContext {
  current: PackageRef[];
  currentGeneration: number;
  /** the prefix's layout: an `inplace` one can return to generation 0 (rollbackTarget) */
  layout: LayoutKind;
  resolve(ref: string): Promise<PackageRef>;
  generation(n: number): Promise<PackageRef[] | undefined>;
  /** the prefix's recorded generations, ascending (read under the lock the transaction holds) */
  generationNumbers(): Promise<number[]>;
}

export interface Target {
  packages: PackageRef[];
  /** set for rollback: the existing generation that becomes current */
  existingGeneration?: number;
}

/** The package set the transaction moves to, with refs resolved in one index session. */
export async function resolveGoal(
  ctx: StoreContext,
  p: PrefixPaths,
  kind: TxnKind,
  target: (t: TargetContext) => Promise<Target>,
  cur: { current: PackageRef[]; generation: number },
  /** told of each entry a ref resolves to, as it does (run.ts starts the placing worker) */
  onResolved: (e: EntryRecord) => void = () => {},
): Promise<Target> {
  const targetCtx = (resolve: TargetContext['resolve']): TargetContext => ({
    current: cur.current,
    currentGeneration: cur.generation,
    layout: p.layout,
    resolve,
    generation: async (n) => (await readGeneration(p, n))?.packages,
    generationNumbers: () => listGenerationNumbers(p),
  });
  // A rollback names a generation, not refs: it needs no index session.
  if (kind === 'rollback')
    return target(
      targetCtx(async (ref) => {
        throw new PstoreError('EPSTORE_INTERNAL', `rollback resolved a ref (${ref})`);
      }),
    );
  // First without the store's index, whose open compacts and flushes its log: a target that
  // resolves no ref (a deactivation by name, a lockfile the prefix already holds) is done then.
  // One that asks to resolve a ref stops at once and runs again in an index session.
  try {
    return await target(
      targetCtx(async () => {
        throw new NeedsIndex();
      }),
    );
  } catch (err) {
    if (!(err instanceof NeedsIndex)) throw err;
  }
  return useIndex(ctx, (db: IndexDb) =>
    target(
      targetCtx(async (ref) => {
        const e = await resolveRef(db, ref, { active: cur.current });
        onResolved(e);
        return toPackageRef(e);
      }),
    ),
  );
}

/** A target's first call of `resolve` before the index is open (resolveGoal). */
class NeedsIndex extends Error {}
