// `owner PATH...` without --prefix (SPEC.md §CLI): each path is looked up in the prefix registered
// with this store that contains it (the deepest, when prefixes nest), as written or with its
// symlinks resolved; then that prefix answers as `owner --prefix` does, one pass over its active
// manifests for all of its paths.

import path from 'node:path';
import type { StoreContext } from '../store/context.js';
import { listPrefixes } from '../store/prefixes.js';
import { prefixPaths } from '../prefix/layout.js';
import { realpathDeepest, relativeWithin } from '../prefix/overlap.js';
import { readPrefixRecord } from '../prefix/state.js';
import type { PathOwners } from '../prefix/query.js';
import { prefixOwners } from './prefix-queries.js';

export interface RegisteredPathOwners extends PathOwners {
  /** the registered prefix that contains the path, or null when none does */
  prefix: string | null;
}

export async function registeredOwners(
  ctx: StoreContext,
  queries: readonly string[],
): Promise<RegisteredPathOwners[]> {
  const prefixes = await livePrefixes(ctx);
  const byPrefix = new Map<string, number[]>();
  const results: RegisteredPathOwners[] = [];
  for (const [i, query] of queries.entries()) {
    const dir = await containingPrefix(prefixes, path.resolve(query));
    results.push({ path: query, relative: undefined, owners: [], prefix: dir ?? null });
    if (dir !== undefined) byPrefix.set(dir, [...(byPrefix.get(dir) ?? []), i]);
  }
  for (const [dir, indexes] of byPrefix) {
    const found = await prefixOwners(
      ctx,
      dir,
      indexes.map((i) => path.resolve(queries[i]!)),
    );
    indexes.forEach((i, k) => (results[i] = { ...found[k]!, path: queries[i]!, prefix: dir }));
  }
  return results;
}

/** Registered prefixes whose state exists, each with its real path (a generations prefix is a symlink). */
async function livePrefixes(ctx: StoreContext): Promise<Array<{ dir: string; real: string }>> {
  const out: Array<{ dir: string; real: string }> = [];
  for (const reg of await listPrefixes(ctx.layout)) {
    if (!(await readPrefixRecord(prefixPaths(reg.dir, reg.layout)))) continue;
    out.push({ dir: reg.dir, real: await realpathDeepest(reg.dir) });
  }
  return out;
}

/** The deepest registered prefix containing `abs`, as written or resolved. */
async function containingPrefix(
  prefixes: ReadonlyArray<{ dir: string; real: string }>,
  abs: string,
): Promise<string | undefined> {
  const resolved = path.join(await realpathDeepest(path.dirname(abs)), path.basename(abs));
  let best: string | undefined;
  for (const p of prefixes) {
    const inside = [abs, resolved].some(
      (q) => relativeWithin(q, p.dir) !== undefined || relativeWithin(q, p.real) !== undefined,
    );
    if (inside && (best === undefined || p.dir.length > best.length)) best = p.dir;
  }
  return best;
}
