// The prefix handle: store.prefix(dir) → activate / deactivate / rollback / transaction / status /
// generations / recover / prune / verify / hash. Writers go through runTransaction; readers read
// the committed state files and never wait for a healthy writer.

import path from 'node:path';
import { PstoreError, isPstoreError } from '../core/errors.js';
import { guarded } from './boundary.js';
import type { LayoutKind } from '../core/names.js';
import type { PackageRef } from '../core/package-ref.js';
import { openPrefixForWrite } from '../prefix/open.js';
import { pruneGenerations, type PruneResult } from '../prefix/prune.js';
import {
  listGenerationNumbers,
  listGenerations,
  readCurrent,
  readCurrentGeneration,
} from '../prefix/state.js';
import { lockStore, type StoreContext } from '../store/context.js';
import { identifyManifest } from '../core/manifest.js';
import { readManifestFile } from '../store/manifests.js';
import { buildLockfile, lockedPackages, type Lockfile } from '../transfer/lockfile.js';
import { recoverPending, type RecoverResult } from '../txn/recover.js';
import {
  duplicateNames,
  runTransaction,
  type TargetContext,
  type TxnOptions,
  type TxnResult,
} from '../txn/run.js';
import { contextFor, managed } from '../prefix/access.js';
import {
  hashPrefix,
  verifyPrefix,
  type PrefixHashResult,
  type PrefixVerifyResult,
} from '../txn/inspect.js';
import { probeTransaction, settled, type TransactionView } from '../txn/readers.js';
import { matchActive } from '../prefix/query.js';
import {
  activeEntryInfo,
  diffGenerations,
  prefixOwners,
  type DiffOptions,
  type GenerationDiff,
  type PathOwners,
} from './prefix-queries.js';
import type { EntryInfo } from '../store/query.js';

export type {
  DiffOptions,
  GenerationDiff,
  PathOwners,
  PrefixHashResult,
  PrefixVerifyResult,
  PruneResult,
  TransactionView,
};

export interface PrefixStatus extends TransactionView {
  prefix: string;
  layout: LayoutKind;
  store: string;
  generation: number;
  packages: PackageRef[];
  /** a transaction is running right now (its writer is alive): transaction === 'running' */
  transactionInProgress: boolean;
}

export interface GenerationInfo {
  generation: number;
  current: boolean;
  createdAt: string;
  packages: PackageRef[];
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
  /** digest of the owned tree, read under the prefix lock (shared): one committed state */
  hash(): Promise<PrefixHashResult>;
  /** the active set as a lockfile */
  lock(): Promise<Lockfile>;
  /** make the active set exactly the lockfile's; every missing entry is named in one EPSTORE_NOT_FOUND */
  syncLockfile(lock: Lockfile, opts?: TxnOptions): Promise<TxnResult>;
  /**
   * Which active packages own each path (absolute, or relative to the prefix), as dpkg -S: an
   * unowned path (or one outside the prefix) has no owners; a directory shared by several
   * packages lists each. Reads every active manifest once, whatever the number of paths.
   */
  owners(paths: string[]): Promise<PathOwners[]>;
  /** the entry active here that `ref` names (NAME, NAME@VERSION or an id prefix); EPSTORE_NOT_FOUND if none */
  info(ref: string, opts?: { paths?: boolean }): Promise<EntryInfo>;
  /** packages added, removed, up/downgraded (and with `files`, paths) between two generations */
  diff(opts?: DiffOptions): Promise<GenerationDiff>;
}

type Op = { kind: 'activate'; ref: string } | { kind: 'deactivate'; name: string };

async function targetFor(
  ops: readonly Op[],
  t: TargetContext,
): Promise<{ packages: PackageRef[] }> {
  let packages = [...t.current];
  const incoming: PackageRef[] = [];
  for (const op of ops) {
    if (op.kind === 'deactivate') {
      // NAME or NAME@VERSION (that version must be the active one): either way the name goes.
      const { name } = matchActive([...packages, ...incoming], op.name);
      packages = packages.filter((p) => p.name !== name);
      incoming.splice(0, incoming.length, ...incoming.filter((p) => p.name !== name));
    } else {
      incoming.push(await t.resolve(op.ref));
    }
  }
  duplicateNames(incoming);
  const names = new Set(incoming.map((p) => p.name));
  return { packages: [...packages.filter((p) => !names.has(p.name)), ...incoming] };
}

export function openPrefix(
  ctx: StoreContext,
  dir: string,
  defaults: { layout?: LayoutKind } = {},
): Prefix {
  const run = (
    kind: 'activate' | 'deactivate' | 'rollback' | 'sync',
    fn: (t: TargetContext) => ReturnType<typeof targetFor>,
    opts: TxnOptions = {},
  ) => runTransaction(ctx, dir, kind, fn, { ...defaults, ...opts });

  const prefix: Prefix = {
    dir: path.resolve(dir),
    activate: (refs, opts) =>
      run(
        'activate',
        (t) =>
          targetFor(
            refs.map((ref) => ({ kind: 'activate', ref })),
            t,
          ),
        opts,
      ),
    deactivate: (names, opts) =>
      run(
        'deactivate',
        (t) =>
          targetFor(
            names.map((name) => ({ kind: 'deactivate', name })),
            t,
          ),
        opts,
      ),
    sync: (refs, opts) =>
      run(
        'sync',
        async (t) => {
          const packages = await Promise.all(refs.map((r) => t.resolve(r)));
          duplicateNames(packages);
          return { packages };
        },
        opts,
      ),
    rollback: (opts = {}) =>
      run(
        'rollback',
        async (t) => {
          const numbers = (await generationNumbersOf(dir)).filter((n) => n !== t.currentGeneration);
          const to = opts.to ?? numbers.filter((n) => n < t.currentGeneration).pop();
          const packages = to === undefined || to < 1 ? undefined : await t.generation(to);
          if (to === undefined || packages === undefined) {
            throw new PstoreError(
              'EPSTORE_NOT_FOUND',
              opts.to === undefined
                ? `no generation before ${t.currentGeneration} in ${dir}`
                : `generation ${opts.to} does not exist in ${dir}`,
              { subject: String(opts.to ?? t.currentGeneration) },
            );
          }
          if (to === t.currentGeneration)
            throw new PstoreError('EPSTORE_USAGE', `generation ${to} is already current`, {
              subject: String(to),
            });
          return { packages, existingGeneration: to };
        },
        opts,
      ),
    transaction: () => {
      const ops: Op[] = [];
      const txn: Transaction = {
        activate: (...refs) => {
          ops.push(...refs.map((ref) => ({ kind: 'activate' as const, ref })));
          return txn;
        },
        deactivate: (...names) => {
          ops.push(...names.map((name) => ({ kind: 'deactivate' as const, name })));
          return txn;
        },
        commit: (opts) =>
          run(
            ops.some((o) => o.kind === 'activate') ? 'activate' : 'deactivate',
            (t) => targetFor(ops, t),
            opts,
          ),
      };
      return guarded(txn);
    },
    status: async () => {
      const found = await managed(dir);
      const view = await probeTransaction(ctx, found);
      const cur = await readCurrent(found.paths);
      const gen = await readCurrentGeneration(found.paths, cur);
      return {
        prefix: found.paths.dir,
        layout: found.paths.layout,
        store: found.record.store,
        generation: cur.generation,
        packages: gen.packages,
        transactionInProgress: view.transaction === 'running',
        ...view,
      };
    },
    generations: async () => {
      const { paths } = await settled(ctx, dir);
      const cur = await readCurrent(paths);
      return (await listGenerations(paths)).map((g) => ({
        generation: g.generation,
        current: g.generation === cur.generation,
        createdAt: g.createdAt,
        packages: g.packages,
      }));
    },
    recover: async () => {
      const found = await managed(dir);
      const storeCtx = contextFor(ctx, found.record);
      const opened = await openPrefixForWrite(dir, {
        storeRoot: found.record.store,
        create: false,
        waitMs: ctx.waitMs,
      });
      try {
        await using _l = await lockStore(storeCtx, 'shared');
        return await recoverPending(storeCtx, opened.paths);
      } finally {
        await opened.lock.release();
      }
    },
    prune: async ({ keep }) => {
      if (!Number.isInteger(keep) || keep < 0)
        throw new PstoreError('EPSTORE_USAGE', `keep must be a whole number ≥ 0, not ${keep}`, {
          subject: String(keep),
          data: { option: 'keep' },
        });
      const found = await managed(dir);
      const opened = await openPrefixForWrite(dir, {
        storeRoot: found.record.store,
        create: false,
        waitMs: ctx.waitMs,
      });
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
    },
    syncLockfile: (lock, opts) =>
      run(
        'sync',
        async (t) => {
          const wanted = lockedPackages(lock);
          const found = await Promise.all(
            wanted.map((w) =>
              t.resolve(w.id).then(
                (r) => r,
                (err: unknown) => {
                  if (isPstoreError(err, 'EPSTORE_NOT_FOUND')) return undefined;
                  throw err;
                },
              ),
            ),
          );
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
        },
        opts,
      ),
    hash: async () => hashPrefix(ctx, dir),
    owners: (paths) => prefixOwners(ctx, dir, paths),
    info: (ref, o) => activeEntryInfo(ctx, dir, ref, o),
    diff: (o) => diffGenerations(ctx, dir, o),
  };
  return prefix;
}

async function generationNumbersOf(dir: string): Promise<number[]> {
  const found = await managed(dir);
  return listGenerationNumbers(found.paths);
}
