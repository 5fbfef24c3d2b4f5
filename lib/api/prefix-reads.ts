// The prefix handle's reading methods other than status (prefix-status.ts): the committed state,
// read after any interrupted transaction is recovered (txn/readers.ts decides when).

import type { PackageRef } from '../core/package-ref.js';
import { identifyManifest } from '../core/manifest.js';
import { contextFor } from '../prefix/access.js';
import { listGenerations, readCurrent, readCurrentGeneration } from '../prefix/state.js';
import type { StoreContext } from '../store/context.js';
import { readManifestFile } from '../store/manifests.js';
import { buildLockfile, type Lockfile } from '../transfer/lockfile.js';
import { settled } from '../txn/readers.js';

/** One generation of a prefix, as {@link Prefix.generations} lists it. */
export interface GenerationInfo {
  /** the generation number */
  generation: number;
  /** this generation is the current one */
  current: boolean;
  /** when it was committed, ISO 8601 */
  createdAt: string;
  /** what made the generation (TxnOptions.command), when it was recorded */
  command?: string;
  /** the packages active in it */
  packages: PackageRef[];
}

export async function prefixGenerations(ctx: StoreContext, dir: string): Promise<GenerationInfo[]> {
  const { paths } = await settled(ctx, dir);
  const cur = await readCurrent(paths);
  return (await listGenerations(paths)).map((g) => ({
    generation: g.generation,
    current: g.generation === cur.generation,
    createdAt: g.createdAt,
    ...(g.command === undefined ? {} : { command: g.command }),
    packages: g.packages,
  }));
}

/** The active set as a lockfile: each package with its manifest's integrity. */
export async function prefixLockfile(ctx: StoreContext, dir: string): Promise<Lockfile> {
  const { paths, record } = await settled(ctx, dir);
  const gen = await readCurrentGeneration(paths, await readCurrent(paths));
  const storeCtx = contextFor(ctx, record);
  const locked = await Promise.all(
    gen.packages.map(async (p) => {
      const { integrity } = identifyManifest(await readManifestFile(storeCtx.layout, p.id));
      return { ...p, integrity };
    }),
  );
  return buildLockfile(locked);
}
