// `verify`: rehash every object every entry references, check each manifest against its id, and
// report problems per entry. Runs under the shared store lock so gc cannot delete while it reads.
// `--repair` (under the exclusive lock: no add may be trusting an object it is about to remove)
// then removes every damaged object and every damaged manifest with its index record, so that
// re-adding (or importing) the same content restores them: a present object or manifest is only
// kept by `add` when its bytes match, and an absent one is simply written.

import { promises as fsp } from 'node:fs';
import { listEntries, unregisterEntries } from './index-entries.js';
import { isPstoreError } from '../core/errors.js';
import { fileObjectKey, parseObjectKey } from '../core/object-key.js';
import { objectPath } from './layout.js';
import { checkObject, type ObjectCheck } from './objects.js';
import { lockStore, storeExists, useIndex, type StoreContext } from './context.js';
import { readManifestFile, removeManifestFile } from './manifests.js';
import type { EntryRecord, Manifest, ProgressListener } from '../core/types.js';
import { abortingListener, throwIfAborted } from '../core/abort.js';
import pMap from 'p-map';

/** What `verify` found wrong with one entry. */
export interface EntryProblems {
  /** the entry id */
  id: string;
  /** the package name */
  name: string;
  /** the package version */
  version: string;
  /** the state of the entry's manifest (when not `ok`, its files were not checked) */
  manifest: 'ok' | 'missing' | 'corrupt';
  /** paths (in the entry) whose object is absent */
  missing: string[];
  /** paths (in the entry) whose object has the wrong bytes, size or mode */
  corrupt: string[];
}

/** The outcome of {@link Store.verify}. */
export interface VerifyResult {
  /** true when no problem was found */
  ok: boolean;
  /** entries checked */
  entries: number;
  /** distinct objects rehashed (a shared object counts once) */
  objects: number;
  /** total size of the distinct objects rehashed, in bytes */
  bytes: number;
  /** one item per damaged entry; empty when `ok` */
  problems: EntryProblems[];
  /** with `repair`: what was removed (object keys; entries whose manifest was damaged or missing) */
  repaired?: {
    /** keys of the damaged objects removed */
    objects: string[];
    /** entries whose damaged manifest (and index record) was removed */
    entries: Array<{
      /** the entry id */
      id: string;
      /** the package name */
      name: string;
      /** the package version */
      version: string;
    }>;
  };
}

/** Options of {@link Store.verify}; all optional. */
export interface VerifyOptions {
  /** called with `verify` events (`done`/`total` in files, `subject` the path) as files are checked */
  onProgress?: ProgressListener;
  /** remove damaged objects and manifests (and their index records) so that re-adding restores them */
  repair?: boolean;
  /** stop before the next entry or object with EPSTORE_ABORTED (a repair is not started) */
  signal?: AbortSignal;
}

export async function verifyStore(
  ctx: StoreContext,
  opts: VerifyOptions = {},
): Promise<VerifyResult> {
  const op = { what: `verify of ${ctx.root}`, subject: ctx.root };
  throwIfAborted(opts.signal, op);
  if (!(await storeExists(ctx))) return resultOf([], new ObjectChecks(ctx, 0), [], opts);
  await using _lock = await lockStore(ctx, opts.repair ? 'exclusive' : 'shared');
  const entries = await useIndex(ctx, listEntries, { reconcile: 'always' });
  // every regular file of every entry is checked once (a shared object is hashed once, counted each time)
  const checks = new ObjectChecks(
    ctx,
    entries.reduce((sum, e) => sum + e.files, 0),
  );
  const onProgress = abortingListener(opts.signal, op, opts.onProgress);
  const problems: EntryProblems[] = [];
  for (const e of entries) {
    throwIfAborted(opts.signal, op);
    const report = await verifyEntry(ctx, e, checks, onProgress);
    if (report.manifest !== 'ok' || report.missing.length || report.corrupt.length)
      problems.push(report);
  }
  const result = resultOf(entries, checks, problems, opts);
  if (opts.repair) result.repaired = await repair(ctx, problems, checks.all);
  return result;
}

function resultOf(
  entries: readonly EntryRecord[],
  checks: ObjectChecks,
  problems: EntryProblems[],
  opts: VerifyOptions,
): VerifyResult {
  return {
    ok: problems.length === 0,
    entries: entries.length,
    objects: checks.objects,
    bytes: checks.bytes,
    problems,
    ...(opts.repair ? { repaired: { objects: [], entries: [] } } : {}),
  };
}

/** Each object rehashed once, however many entries share it. */
class ObjectChecks {
  readonly all = new Map<string, Promise<ObjectCheck>>();
  objects = 0;
  bytes = 0;
  done = 0;

  constructor(
    private readonly ctx: StoreContext,
    /** file records in all, for progress with a known total */
    readonly total: number,
  ) {}

  check(key: string, integrity: string, size: number): Promise<ObjectCheck> {
    let c = this.all.get(key);
    if (!c) {
      this.objects++;
      this.bytes += size;
      c = checkWithMode(this.ctx, key, integrity);
      this.all.set(key, c);
    }
    return c;
  }
}

/** One entry: its manifest readable, and every file's object present with the right bytes. */
async function verifyEntry(
  ctx: StoreContext,
  e: EntryRecord,
  checks: ObjectChecks,
  onProgress: ProgressListener | undefined,
): Promise<EntryProblems> {
  const report: EntryProblems = {
    id: e.id,
    name: e.name,
    version: e.version,
    manifest: 'ok',
    missing: [],
    corrupt: [],
  };
  let manifest: Manifest;
  try {
    manifest = await readManifestFile(ctx.layout, e.id);
  } catch (err) {
    if (!isPstoreError(err, 'EPSTORE_INTEGRITY')) throw err;
    report.manifest = err.data?.reason ?? 'corrupt';
    return report;
  }
  const files = manifest.files.flatMap((f) => (f.type === 'file' ? [f] : []));
  const results = await pMap(
    files,
    (f) => {
      const done = ++checks.done;
      onProgress?.({ phase: 'verify', unit: 'files', done, total: checks.total, subject: f.path });
      return checks.check(fileObjectKey(f), f.integrity, f.size);
    },
    { concurrency: 8 },
  );
  results.forEach((r, i) => {
    if (r.status === 'missing') report.missing.push(files[i]!.path);
    if (r.status === 'corrupt') report.corrupt.push(files[i]!.path);
  });
  return report;
}

/** Remove what `verify` found damaged; missing objects need no removal, only a re-add. */
async function repair(
  ctx: StoreContext,
  problems: readonly EntryProblems[],
  checks: ReadonlyMap<string, Promise<ObjectCheck>>,
): Promise<NonNullable<VerifyResult['repaired']>> {
  const objects: string[] = [];
  for (const [key, check] of checks) if ((await check).status === 'corrupt') objects.push(key);
  await Promise.all(objects.map((key) => fsp.rm(objectPath(ctx.layout, key), { force: true })));
  const damaged = problems.filter((p) => p.manifest !== 'ok');
  await Promise.all(damaged.map((p) => removeManifestFile(ctx.layout, p.id)));
  if (damaged.length)
    await useIndex(ctx, (db) =>
      unregisterEntries(
        db,
        damaged.map((p) => p.id),
      ),
    );
  return {
    objects: objects.sort(),
    entries: damaged.map(({ id, name, version }) => ({ id, name, version })),
  };
}

/** A damaged object may also have lost its mode: an exec object must be executable and vice versa. */
async function checkWithMode(
  ctx: StoreContext,
  key: string,
  integrity: string,
): Promise<ObjectCheck> {
  const result = await checkObject(ctx.layout, key, integrity);
  if (result.status !== 'ok') return result;
  const st = await fsp.stat(objectPath(ctx.layout, key));
  const exec = (st.mode & 0o100) !== 0;
  return exec === parseObjectKey(key).exec
    ? result
    : { key, status: 'corrupt', found: `mode ${(st.mode & 0o777).toString(8)}` };
}
