// `verify --prefix` and `hash`: walk the paths the current generation owns, under the prefix lock
// held shared (readers.ts), so what they report is one committed state, never a mix.

import { promises as fsp } from 'node:fs';
import {
  findStrays,
  observeEach,
  observeTree,
  treeDigest,
  type Observed,
} from '../prefix/inspect.js';
import { comparePaths } from '../core/manifest.js';
import type { PrefixPaths } from '../prefix/layout.js';
import { readCurrent, readCurrentGeneration } from '../prefix/state.js';
import type { StoreContext } from '../store/context.js';
import { loadPackages, ownedPaths } from './packages.js';
import { sameFile, type PlanPackage } from './plan.js';
import { checkOwnershipIndex, type OwnershipIndexCheck } from './ownership/verify.js';
import type { ManifestFile } from '../core/types.js';
import { contextFor, type ManagedPrefix } from '../prefix/access.js';
import { withSteadyPrefix, type TransactionView } from './readers.js';

/** What {@link Prefix.verify} found: the prefix's files against the manifests of its packages. */
export interface PrefixVerifyResult extends TransactionView {
  /** true when nothing is missing, modified or stray, no transaction is pending and the index is not damaged */
  ok: boolean;
  /** the prefix directory, absolute */
  prefix: string;
  /** the current generation */
  generation: number;
  /** paths checked (every path the active packages ship) */
  checked: number;
  /** owned paths absent from the prefix */
  missing: string[];
  /** owned paths whose type, content, exec bit or link target differ from the manifest */
  modified: string[];
  /** temporary or trash names pstore left behind */
  strays: string[];
  /** an interrupted transaction is waiting for recovery (the files may be a mix) */
  pendingTransaction: boolean;
  /** the ownership index against the manifests (SPEC.md §Ownership index); damaged fails */
  index: OwnershipIndexCheck;
}

/** A digest of a prefix's owned tree ({@link Prefix.hash}): equal trees have equal digests. */
export interface PrefixHashResult extends TransactionView {
  /** the prefix directory, absolute */
  prefix: string;
  /** the current generation */
  generation: number;
  /** `sha512-BASE64` over the owned paths, types, exec bits, content hashes and link targets */
  digest: string;
  /** owned paths hashed */
  paths: number;
  /** kept for compatibility: always false now (the walk holds the lock, no writer runs meanwhile) */
  transactionInProgress: boolean;
}

interface Owned {
  generation: number;
  root: string;
  owned: Map<string, ManifestFile>;
  packages: PlanPackage[];
}

interface Walk extends Owned {
  observed: Observed[];
}

/** The current generation's packages and the paths they own. */
async function loadOwned(ctx: StoreContext, found: ManagedPrefix): Promise<Owned> {
  const cur = await readCurrent(found.paths);
  const gen = await readCurrentGeneration(found.paths, cur);
  const packages = await loadPackages(contextFor(ctx, found.record), gen.packages);
  const owned = ownedPaths(packages);
  return { generation: cur.generation, root: await rootOf(found.paths), owned, packages };
}

async function walk(ctx: StoreContext, found: ManagedPrefix): Promise<Walk> {
  const o = await loadOwned(ctx, found);
  return { ...o, observed: await observeTree(o.root, o.owned.keys()) };
}

async function rootOf(p: PrefixPaths): Promise<string> {
  return p.layout === 'generations' ? fsp.realpath(p.dir).catch(() => p.dir) : p.dir;
}

export function hashPrefix(ctx: StoreContext, dir: string): Promise<PrefixHashResult> {
  return withSteadyPrefix(ctx, dir, async (found, view) => {
    const w = await walk(ctx, found);
    return {
      prefix: found.paths.dir,
      generation: w.generation,
      digest: treeDigest(w.observed),
      paths: w.observed.length,
      transactionInProgress: false,
      ...view,
    };
  });
}

export function verifyPrefix(ctx: StoreContext, dir: string): Promise<PrefixVerifyResult> {
  return withSteadyPrefix(ctx, dir, async (found, view) => {
    const w = await loadOwned(ctx, found);
    // The index is checked first: its two maps of every path are gone before the files are read.
    const index = await checkOwnershipIndex(found.paths, w.packages);
    const pendingTransaction = view.transaction !== 'none';
    const result: PrefixVerifyResult = {
      ok: false,
      prefix: found.paths.dir,
      generation: w.generation,
      checked: w.owned.size,
      missing: [],
      modified: [],
      strays: [],
      pendingTransaction,
      index,
      ...view,
    };
    // Each path compared as it is read, nothing kept of it; the lists in path order as before.
    await observeEach(w.root, w.owned.keys(), (o) => {
      if (o.type === 'missing') result.missing.push(o.path);
      else if (o.type === 'other' || !sameFile(o, w.owned.get(o.path)!))
        result.modified.push(o.path);
    });
    result.missing.sort(comparePaths);
    result.modified.sort(comparePaths);
    const dirs = new Set<string>(['']);
    for (const [rel, f] of w.owned) if (f.type === 'dir') dirs.add(rel);
    result.strays = await findStrays(w.root, dirs);
    result.ok =
      !pendingTransaction &&
      result.missing.length === 0 &&
      result.modified.length === 0 &&
      result.strays.length === 0 &&
      result.index.state !== 'damaged';
    return result;
  });
}
