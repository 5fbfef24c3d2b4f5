// The prefix handle's questions (owner, info, diff): each reads one committed state of the prefix
// (a dead writer's journal is recovered first, as `generations` does) and the manifests of the
// entries it names, from the store that manages the prefix.

import { PstoreError } from '../core/errors.js';
import type { PackageRef } from '../core/package-ref.js';
import { contextFor } from '../prefix/access.js';
import {
  diffFiles,
  diffPackages,
  findOwners,
  matchActive,
  type FileChanges,
  type PackageChanges,
  type PathOwners,
} from '../prefix/query.js';
import {
  listGenerationNumbers,
  readCurrent,
  readCurrentGeneration,
  readGeneration,
} from '../prefix/state.js';
import type { StoreContext } from '../store/context.js';
import { entryInfo, type EntryInfo } from '../store/query.js';
import { settled } from '../txn/readers.js';

export type { FileChanges, PackageChanges, PathOwners };

/** What changed between two generations of a prefix ({@link Prefix.diff}). */
export interface GenerationDiff extends PackageChanges {
  /** the prefix directory, absolute */
  prefix: string;
  /** the generation compared from (0: the empty prefix) */
  from: number;
  /** the generation compared to */
  to: number;
  /** with `files` only: paths added, removed and changed between the two sets' manifests */
  files?: FileChanges;
}

async function readState(ctx: StoreContext, dir: string) {
  const { paths, record } = await settled(ctx, dir);
  const current = await readCurrent(paths);
  const active = (await readCurrentGeneration(paths, current)).packages;
  return { paths, storeCtx: contextFor(ctx, record), current: current.generation, active };
}

export async function prefixOwners(
  ctx: StoreContext,
  dir: string,
  queries: readonly string[],
): Promise<PathOwners[]> {
  const s = await readState(ctx, dir);
  return findOwners(s.storeCtx.layout, s.paths.dir, s.active, queries);
}

export async function activeEntryInfo(
  ctx: StoreContext,
  dir: string,
  ref: string,
  opts: { paths?: boolean } = {},
): Promise<EntryInfo> {
  const s = await readState(ctx, dir);
  const pkg = matchActive(s.active, ref, { ids: true, where: s.paths.dir });
  return entryInfo(s.storeCtx, pkg.id, opts);
}

/** Options of {@link Prefix.diff}; all optional. */
export interface DiffOptions {
  /** default: the newest existing generation before `to`, else 0 (the empty prefix) */
  from?: number;
  /** default: the current generation */
  to?: number;
  /** also compare the paths of the two sets' manifests */
  files?: boolean;
}

export async function diffGenerations(
  ctx: StoreContext,
  dir: string,
  opts: DiffOptions = {},
): Promise<GenerationDiff> {
  const s = await readState(ctx, dir);
  const to = opts.to ?? s.current;
  const from = opts.from ?? (await listGenerationNumbers(s.paths)).filter((n) => n < to).pop() ?? 0;
  const before = await packagesOf(s.paths, from);
  const after = await packagesOf(s.paths, to);
  return {
    prefix: s.paths.dir,
    from,
    to,
    ...diffPackages(before, after),
    ...(opts.files ? { files: await diffFiles(s.storeCtx.layout, before, after) } : {}),
  };
}

async function packagesOf(
  paths: Parameters<typeof readGeneration>[0],
  n: number,
): Promise<PackageRef[]> {
  if (!Number.isInteger(n) || n < 0)
    throw new PstoreError('EPSTORE_USAGE', `a generation is a whole number ≥ 0, not ${n}`, {
      subject: String(n),
    });
  const g = await readGeneration(paths, n);
  if (!g)
    throw new PstoreError('EPSTORE_NOT_FOUND', `generation ${n} does not exist in ${paths.dir}`, {
      subject: String(n),
      hint: 'see pstore generations',
    });
  return g.packages;
}
