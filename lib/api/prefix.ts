// The prefix handle: store.prefix(dir) → activate / deactivate / rollback / transaction / status /
// generations / recover / prune / verify / hash. Writers go through runTransaction; readers read
// the committed state files and never wait for a healthy writer.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { PstoreError, isPstoreError } from '../errors.js';
import { guarded } from './boundary.js';
import { acquireLock } from '../lock/file-lock.js';
import { treeDir, type LayoutKind, type PrefixPaths } from '../prefix/layout.js';
import { canonicalPrefixDir, notManaged, openPrefixForWrite } from '../prefix/open.js';
import { findStrays, observeTree, treeDigest } from '../prefix/inspect.js';
import { detectPrefix, listGenerationNumbers, listGenerations, readCurrent, readGeneration, writeJson, type PackageRef, type PrefixRecord } from '../prefix/state.js';
import { createContext, lockStore, type StoreContext } from '../store/context.js';
import { generationFile } from '../prefix/layout.js';
import { readJournal } from '../txn/journal.js';
import { loadPackages, ownedPaths } from '../txn/packages.js';
import { sameFile } from '../txn/plan.js';
import { identifyManifest } from '../ingest/manifest.js';
import { readManifestFile } from '../store/manifests.js';
import { buildLockfile, lockedPackages, type Lockfile } from '../transfer/lockfile.js';
import { recoverPending, type RecoverResult } from '../txn/recover.js';
import { duplicateNames, runTransaction, type TargetContext, type TxnOptions, type TxnResult } from '../txn/run.js';

export interface PrefixStatus {
  prefix: string;
  layout: LayoutKind;
  store: string;
  generation: number;
  packages: PackageRef[];
  /** a transaction is running right now (its writer is alive) */
  transactionInProgress: boolean;
}

export interface GenerationInfo {
  generation: number;
  current: boolean;
  createdAt: string;
  packages: PackageRef[];
}

export interface PrefixVerifyResult {
  ok: boolean;
  prefix: string;
  generation: number;
  checked: number;
  missing: string[];
  modified: string[];
  strays: string[];
  pendingTransaction: boolean;
}

export interface PruneResult {
  prefix: string;
  removed: number[];
  kept: number[];
}

export interface Transaction {
  activate(...refs: string[]): Transaction;
  deactivate(...names: string[]): Transaction;
  commit(opts?: TxnOptions): Promise<TxnResult>;
}

export interface Prefix {
  readonly dir: string;
  activate(refs: string[], opts?: TxnOptions): Promise<TxnResult>;
  deactivate(names: string[], opts?: TxnOptions): Promise<TxnResult>;
  rollback(opts?: TxnOptions & { to?: number }): Promise<TxnResult>;
  /** make the active set exactly these refs, in one transaction */
  sync(refs: string[], opts?: TxnOptions): Promise<TxnResult>;
  transaction(): Transaction;
  status(): Promise<PrefixStatus>;
  generations(): Promise<GenerationInfo[]>;
  recover(): Promise<RecoverResult>;
  prune(opts: { keep: number }): Promise<PruneResult>;
  verify(): Promise<PrefixVerifyResult>;
  /** digest of the owned tree; `transactionInProgress` means a live writer may be changing it */
  hash(): Promise<{ prefix: string; generation: number; digest: string; paths: number; transactionInProgress: boolean }>;
  /** the active set as a lockfile */
  lock(): Promise<Lockfile>;
  /** make the active set exactly the lockfile's; every missing entry is named in one EPSTORE_NOT_FOUND */
  syncLockfile(lock: Lockfile, opts?: TxnOptions): Promise<TxnResult>;
}

type Op = { kind: 'activate'; ref: string } | { kind: 'deactivate'; name: string };

async function targetFor(ops: readonly Op[], t: TargetContext): Promise<{ packages: PackageRef[] }> {
  let packages = [...t.current];
  const incoming: PackageRef[] = [];
  for (const op of ops) {
    if (op.kind === 'deactivate') {
      if (!packages.some((p) => p.name === op.name) && !incoming.some((p) => p.name === op.name)) {
        throw new PstoreError('EPSTORE_NOT_FOUND', `${op.name} is not active in this prefix`, { subject: op.name });
      }
      packages = packages.filter((p) => p.name !== op.name);
      incoming.splice(0, incoming.length, ...incoming.filter((p) => p.name !== op.name));
    } else {
      incoming.push(await t.resolve(op.ref));
    }
  }
  duplicateNames(incoming);
  const names = new Set(incoming.map((p) => p.name));
  return { packages: [...packages.filter((p) => !names.has(p.name)), ...incoming] };
}

export function openPrefix(ctx: StoreContext, dir: string, defaults: { layout?: LayoutKind } = {}): Prefix {
  const run = (kind: 'activate' | 'deactivate' | 'rollback' | 'sync', fn: (t: TargetContext) => ReturnType<typeof targetFor>, opts: TxnOptions = {}) =>
    runTransaction(ctx, dir, kind, fn, { ...defaults, ...opts });

  const prefix: Prefix = {
    dir: path.resolve(dir),
    activate: (refs, opts) => run('activate', (t) => targetFor(refs.map((ref) => ({ kind: 'activate', ref })), t), opts),
    deactivate: (names, opts) => run('deactivate', (t) => targetFor(names.map((name) => ({ kind: 'deactivate', name })), t), opts),
    sync: (refs, opts) => run('sync', async (t) => {
      const packages = await Promise.all(refs.map((r) => t.resolve(r)));
      duplicateNames(packages);
      return { packages };
    }, opts),
    rollback: (opts = {}) => run('rollback', async (t) => {
      const numbers = (await generationNumbersOf(dir)).filter((n) => n !== t.currentGeneration);
      const to = opts.to ?? numbers.filter((n) => n < t.currentGeneration).pop();
      const packages = to === undefined || to < 1 ? undefined : await t.generation(to);
      if (to === undefined || packages === undefined) {
        throw new PstoreError('EPSTORE_NOT_FOUND', opts.to === undefined ? `no generation before ${t.currentGeneration} in ${dir}` : `generation ${opts.to} does not exist in ${dir}`, { subject: String(opts.to ?? t.currentGeneration) });
      }
      if (to === t.currentGeneration) throw new PstoreError('EPSTORE_USAGE', `generation ${to} is already current`, { subject: String(to) });
      return { packages, existingGeneration: to };
    }, opts),
    transaction: () => {
      const ops: Op[] = [];
      const txn: Transaction = {
        activate: (...refs) => { ops.push(...refs.map((ref) => ({ kind: 'activate' as const, ref }))); return txn; },
        deactivate: (...names) => { ops.push(...names.map((name) => ({ kind: 'deactivate' as const, name }))); return txn; },
        commit: (opts) => run(ops.some((o) => o.kind === 'activate') ? 'activate' : 'deactivate', (t) => targetFor(ops, t), opts),
      };
      return guarded(txn);
    },
    status: async () => {
      const { paths, record, busy } = await readable(ctx, dir);
      const cur = await readCurrent(paths);
      const gen = await readGeneration(paths, cur.generation);
      return { prefix: paths.dir, layout: paths.layout, store: record.store, generation: cur.generation, packages: gen?.packages ?? [], transactionInProgress: busy };
    },
    generations: async () => {
      const { paths } = await readable(ctx, dir);
      const cur = await readCurrent(paths);
      return (await listGenerations(paths)).map((g) => ({ generation: g.generation, current: g.generation === cur.generation, createdAt: g.createdAt, packages: g.packages }));
    },
    recover: async () => {
      const found = await managed(dir);
      const storeCtx = contextFor(ctx, found.record);
      const opened = await openPrefixForWrite(dir, { storeRoot: found.record.store, create: false, waitMs: ctx.waitMs });
      try {
        await using _l = await lockStore(storeCtx, 'shared');
        return await recoverPending(storeCtx, opened.paths);
      } finally {
        await opened.lock.release();
      }
    },
    prune: async ({ keep }) => {
      if (!Number.isInteger(keep) || keep < 0) throw new PstoreError('EPSTORE_USAGE', `--keep must be a whole number ≥ 0, not ${keep}`, { subject: '--keep' });
      const found = await managed(dir);
      const opened = await openPrefixForWrite(dir, { storeRoot: found.record.store, create: false, waitMs: ctx.waitMs });
      try {
        const storeCtx = contextFor(ctx, found.record);
        await using _l = await lockStore(storeCtx, 'shared');
        await recoverPending(storeCtx, opened.paths);
        return await pruneGenerations(opened.paths, keep);
      } finally {
        await opened.lock.release();
      }
    },
    verify: async () => verifyPrefix(ctx, dir),
    lock: async () => {
      const { paths, record } = await readable(ctx, dir);
      const gen = await readGeneration(paths, (await readCurrent(paths)).generation);
      const storeCtx = contextFor(ctx, record);
      const locked = await Promise.all((gen?.packages ?? []).map(async (p) => {
        const { integrity } = identifyManifest(await readManifestFile(storeCtx.layout, p.id));
        return { ...p, integrity };
      }));
      return buildLockfile(locked);
    },
    syncLockfile: (lock, opts) => run('sync', async (t) => {
      const wanted = lockedPackages(lock);
      const found = await Promise.all(wanted.map((w) => t.resolve(w.id).then((r) => r, (err: unknown) => {
        if (isPstoreError(err, 'EPSTORE_NOT_FOUND')) return undefined;
        throw err;
      })));
      const missing = wanted.filter((_, i) => found[i] === undefined).map((w) => `${w.name}@${w.version} (${w.id})`);
      if (missing.length) {
        throw new PstoreError('EPSTORE_NOT_FOUND', `${missing.length} locked ${missing.length === 1 ? 'entry is' : 'entries are'} not in the store: ${missing.join(', ')}`, { subject: missing.join(', '), data: { missing } });
      }
      const packages = found as PackageRef[];
      packages.forEach((p, i) => {
        const w = wanted[i]!;
        if (p.id !== w.id || p.name !== w.name || p.version !== w.version) {
          throw new PstoreError('EPSTORE_INVALID', `the lockfile names ${w.id} ${w.name}@${w.version}, but that entry is ${p.name}@${p.version}`, { subject: w.name });
        }
      });
      return { packages };
    }, opts),
    hash: async () => {
      const { paths, record, busy } = await readable(ctx, dir);
      const cur = await readCurrent(paths);
      const owned = await ownedOf(contextFor(ctx, record), paths, cur.generation);
      const observed = await observeTree(await rootOf(paths), owned.keys());
      return { prefix: paths.dir, generation: cur.generation, digest: treeDigest(observed), paths: observed.length, transactionInProgress: busy };
    },
  };
  return prefix;
}

async function generationNumbersOf(dir: string): Promise<number[]> {
  const found = await managed(dir);
  return listGenerationNumbers(found.paths);
}

async function managed(dir: string): Promise<{ paths: PrefixPaths; record: PrefixRecord }> {
  const abs = await canonicalPrefixDir(dir, undefined);
  const found = await detectPrefix(abs);
  if (!found) throw notManaged(abs);
  return found;
}

/** Operations on a prefix use the store that manages it, whatever --store says. */
function contextFor(ctx: StoreContext, record: PrefixRecord): StoreContext {
  return path.resolve(record.store) === ctx.root ? ctx : createContext({ path: record.store, waitSeconds: ctx.waitMs / 1000, onWait: ctx.onWait ?? (() => {}) });
}

/**
 * The committed state, for readers. A journal with a live writer: report and move on. A journal
 * whose writer died (its lock is free): recover first, under the writer lock.
 */
async function readable(ctx: StoreContext, dir: string): Promise<{ paths: PrefixPaths; record: PrefixRecord; busy: boolean }> {
  const found = await managed(dir);
  if (!(await readJournal(found.paths))) return { ...found, busy: false };
  let lock;
  try {
    lock = await acquireLock(found.paths.lock, { mode: 'exclusive', waitMs: 0, what: `prefix ${found.paths.dir}` });
  } catch (err) {
    if (isPstoreError(err, 'EPSTORE_BUSY')) return { ...found, busy: true };
    throw err;
  }
  try {
    const storeCtx = contextFor(ctx, found.record);
    // Nor does a reader wait for gc: with the store busy, it reports and reads the committed state.
    let storeLock;
    try {
      storeLock = await lockStore(storeCtx, 'shared', { waitMs: 0 });
    } catch (err) {
      if (isPstoreError(err, 'EPSTORE_BUSY')) return { ...found, busy: true };
      throw err;
    }
    try {
      await recoverPending(storeCtx, found.paths);
    } catch {
      // Recovery is refused (a conflict both ways): the next writer reports why. A reader still
      // shows the committed state, marked as having an unfinished transaction.
      return { ...found, busy: true };
    } finally {
      await storeLock.release();
    }
  } finally {
    await lock.release();
  }
  return { ...found, busy: false };
}

async function rootOf(p: PrefixPaths): Promise<string> {
  return p.layout === 'generations' ? fsp.realpath(p.dir).catch(() => p.dir) : p.dir;
}

async function ownedOf(ctx: StoreContext, p: PrefixPaths, generation: number) {
  const gen = await readGeneration(p, generation);
  return ownedPaths(await loadPackages(ctx, gen?.packages ?? []));
}

async function verifyPrefix(ctx: StoreContext, dir: string): Promise<PrefixVerifyResult> {
  const { paths, record, busy } = await readable(ctx, dir);
  const cur = await readCurrent(paths);
  const owned = await ownedOf(contextFor(ctx, record), paths, cur.generation);
  const root = await rootOf(paths);
  const observed = await observeTree(root, owned.keys());
  const result: PrefixVerifyResult = { ok: true, prefix: paths.dir, generation: cur.generation, checked: observed.length, missing: [], modified: [], strays: [], pendingTransaction: busy };
  for (const o of observed) {
    const want = owned.get(o.path)!;
    if (o.type === 'missing') result.missing.push(o.path);
    else if (o.type === 'other' || !sameFile(o, want)) result.modified.push(o.path);
  }
  const dirs = new Set<string>(['']);
  for (const [rel, f] of owned) if (f.type === 'dir') dirs.add(rel);
  result.strays = await findStrays(root, dirs);
  result.ok = !busy && result.missing.length === 0 && result.modified.length === 0 && result.strays.length === 0;
  return result;
}

async function pruneGenerations(p: PrefixPaths, keep: number): Promise<PruneResult> {
  const cur = await readCurrent(p);
  const numbers = await listGenerationNumbers(p);
  const kept = new Set(numbers.slice(Math.max(0, numbers.length - keep)));
  kept.add(cur.generation);
  const removed = numbers.filter((n) => !kept.has(n));
  // Record the highest number first, so a pruned number is never handed out again.
  await writeJson(p.current, { ...cur, highest: Math.max(cur.highest, ...numbers) });
  for (const n of removed) {
    if (p.layout === 'generations') await fsp.rm(treeDir(p, n), { recursive: true, force: true });
    await fsp.rm(generationFile(p, n), { force: true });
  }
  return { prefix: p.dir, removed, kept: numbers.filter((n) => kept.has(n)) };
}
