// Damaged store content is never installed (SPEC.md §Check): before a transaction changes anything,
// every object it will link is lstat'ed once, in a synchronous loop (a regular file of the
// manifest's size with the key's exec bit) shared with the warm placing worker of a big plan, and,
// with `--verify`, rehashed. A mismatch is EPSTORE_INTEGRITY naming the object and the entry.
// Cost: one lstat per distinct object placed (per placed file on two threads); hashing (8 at a
// time) only on request. A generations tree's kept entries are the exception
// (§Check, *Kept entries*): their objects are the live tree's inodes already, and one that link()
// cannot use is found when the build fails (refuseUnlinkableObjects).

import fs from 'node:fs';
import path from 'node:path';
import pMap from 'p-map';
import { PstoreError, errnoCode } from '../core/errors.js';
import { fileObjectKey } from '../core/object-key.js';
import type { PackageRef } from '../core/package-ref.js';
import { fileObjectPath, type StoreLayout } from '../store/layout.js';
import type { ManifestFile } from '../core/types.js';
import type { ObjectPaths, Plan, PlanPackage } from './plan.js';
import {
  MISSING,
  callOffWorker,
  lookAtClaimed,
  newClaims,
  shapeDamage as shapeDamageOf,
  stopLooking,
  type ShapesJob,
} from './object-shapes.js';
import { placeThreads, warmWorker, type PlaceWorker } from './placer.js';

type FileRecord = Extract<ManifestFile, { type: 'file' }>;

/** The hint every "the store's copy is damaged" error carries. */
export function repairHint(entry: string): string {
  return `run \`pstore verify --repair\`, then re-add or import ${entry}`;
}

/** What is wrong with the object at `file` for `f` (at most one lstat), or undefined if nothing. */
type Judge = (file: string, f: FileRecord) => string | undefined;

/** Why the object's inode cannot stand for `f` (a cheap lstat), or undefined when it can. */
const shapeDamage: Judge = (file, f) => shapeDamageOf(file, f.size, f.exec);

/** What link() cannot make a file from: nothing, or a directory (the old check's first two). */
const unlinkable: Judge = (file) => {
  const st = fs.lstatSync(file, { throwIfNoEntry: false });
  if (!st) return MISSING;
  return st.isDirectory() ? 'it is not a regular file' : undefined;
};

interface Damage {
  f: FileRecord;
  why: string;
}

/** The distinct objects met so far, by integrity: [plain, executable] (the key's two halves). */
type Distinct = [Map<string, FileRecord>, Map<string, FileRecord>];

/** `f`'s damage if its object was not met before (then it is noted as met). */
function lookOnce(
  distinct: Distinct,
  f: FileRecord,
  file: string,
  judge: Judge = shapeDamage,
): Damage | undefined {
  const seen = distinct[f.exec ? 1 : 0];
  if (seen.has(f.integrity)) return undefined;
  seen.set(f.integrity, f);
  const why = judge(file, f);
  return why === undefined ? undefined : { f, why };
}

/**
 * One synchronous lstat per distinct object (no promise per file, SPEC.md §Activation cost). Objects
 * are told apart by integrity and exec bit (shorter to hash than the object's path).
 */
function firstShapeDamage(
  store: StoreLayout,
  plan: Plan,
  distinct: Distinct,
  /** filled with each placed file's object path, by index of plan.place */
  paths?: ObjectPaths,
  judge: Judge = shapeDamage,
  /** plan.place[0, end) is looked at, then the marker units (0: the marker units alone) */
  end = plan.place.length,
): Damage | undefined {
  for (let i = 0; i < end; i++) {
    const f = plan.place[i]!.file;
    if (f.type !== 'file') continue;
    const file = fileObjectPath(store, f);
    if (paths) paths[i] = file;
    const damage = lookOnce(distinct, f, file, judge);
    if (damage) return damage;
  }
  for (const u of plan.placeMarkers)
    for (const f of u.files) {
      const damage =
        f.type === 'file' ? lookOnce(distinct, f, fileObjectPath(store, f), judge) : undefined;
      if (damage) return damage;
    }
  return undefined;
}

/** The same, over the objects of `pkgs` alone (marker units' files included: they are theirs). */
function firstShapeDamageIn(
  store: StoreLayout,
  pkgs: readonly PlanPackage[],
  distinct: Distinct,
): Damage | undefined {
  for (const pkg of pkgs)
    for (const f of pkg.manifest.files) {
      const damage =
        f.type === 'file' ? lookOnce(distinct, f, fileObjectPath(store, f)) : undefined;
      if (damage) return damage;
    }
  return undefined;
}

/**
 * The packages of a new generations tree whose objects the check looks at (SPEC.md §Check, *Kept
 * entries*): those the committed tree lacks when that tree is hard-linked whole, since the kept
 * ones' files there are the store's very inodes and linking them again installs nothing that is
 * not installed already; else undefined (all of them).
 */
export function packagesToCheck(
  to: readonly PlanPackage[],
  committed: { packages: readonly PackageRef[]; hardLinked?: boolean | undefined },
): readonly PlanPackage[] | undefined {
  if (committed.hardLinked !== true) return undefined;
  const kept = new Set(committed.packages.map((r) => r.id));
  return to.filter((pkg) => !kept.has(pkg.ref.id));
}

async function firstHashDamage(
  store: StoreLayout,
  distinct: Distinct,
): Promise<Damage | undefined> {
  // Loaded for --verify alone: the store's object code (ssri and its streams) is not compiled by
  // every activation, which checks sizes only.
  const { checkObject } = await import('../store/objects.js');
  const found = await pMap(
    distinct.flatMap((seen) => [...seen.values()]),
    async (f) =>
      (await checkObject(store, fileObjectKey(f), f.integrity)).status === 'ok'
        ? undefined
        : { f, why: "its bytes do not hash to the manifest's integrity" },
    { concurrency: 8 },
  );
  return found.find((d) => d !== undefined);
}

export interface ObjectCheckOptions {
  /** rehash every object placed (`--verify`; `only` is then ignored) */
  verify?: boolean | undefined;
  /** look at these packages' objects alone (packagesToCheck), not every one the plan places */
  only?: readonly PlanPackage[] | undefined;
}

/**
 * Refuse a plan that would link a damaged object (EPSTORE_INTEGRITY); returns the object path of
 * each placed file this thread looked at, for the apply.
 */
export async function refuseDamagedObjects(
  store: StoreLayout,
  plan: Plan,
  to: readonly PlanPackage[],
  opts: ObjectCheckOptions = {},
): Promise<ObjectPaths> {
  const paths: ObjectPaths = new Array<string | undefined>(plan.place.length);
  const distinct: Distinct = [new Map(), new Map()];
  const verify = opts.verify === true;
  // A worker warmed for a plan that turned out small is left to place nothing: one thread checks.
  const worker = verify || placeThreads(plan.place.length) === 1 ? undefined : warmWorker();
  // The paths of a partial check, and of the worker's share, are not handed over: the apply works
  // them out as it links.
  const shape =
    opts.only && !verify
      ? firstShapeDamageIn(store, opts.only, distinct)
      : worker
        ? await firstShapeDamageOnTwo(store, plan, worker, paths)
        : firstShapeDamage(store, plan, distinct, paths);
  const bad = shape ?? (verify ? await firstHashDamage(store, distinct) : undefined);
  if (bad) throw damagedObject(bad, to);
  return paths;
}

/**
 * The same check shared with the warm placing worker of a big plan (SPEC.md §Check, *Two
 * threads*): both threads claim chunks of plan.place (object-shapes.ts), then this one looks at
 * the marker units while the worker ends its last chunk. A worker that has not begun by then is
 * called off and not waited for (this thread has looked at every chunk). A damaged object met by
 * either thread, or an error of either, has every object looked at again here from the start, so
 * that the plan's first damaged object is named (or the error thrown) as one thread's check would
 * (the worker is stopped, not waited for, when this thread met one); so does a worker that could
 * not run the job (it may have claimed chunks it never looked at).
 */
async function firstShapeDamageOnTwo(
  store: StoreLayout,
  plan: Plan,
  worker: PlaceWorker,
  paths: ObjectPaths,
): Promise<Damage | undefined> {
  const job = shapesOf(store, plan);
  const asked = worker.ask<{ looked: number }>(job);
  // test hook (SPEC.md §Testing hooks): the worker looks at every object the plan places
  const workerOnly = process.env.PSTORE_TEST_CHECK_WORKER_ONLY === '1';
  let clean: boolean;
  try {
    const mine = workerOnly ? -1 : lookAtClaimed(job, (i, file) => (paths[i] = file));
    clean = mine === -1 && firstMarkerDamage(store, plan) === undefined;
  } catch {
    stopLooking(job.claims);
    clean = false;
  }
  if (!clean || callOffWorker(job)) {
    // the worker's answer would change nothing: the second look below, or none needed
    stopLooking(job.claims);
    asked.catch(() => {}); // answered later, or gone
    if (clean) return undefined;
  } else {
    const theirs = await asked.then(
      (r) => r.looked,
      () => 0, // gone, or an lstat failed there: not known to be looked at
    );
    if (theirs === -1) return undefined;
  }
  return firstShapeDamage(store, plan, [new Map(), new Map()], paths);
}

/** The first damaged object of the marker units' files alone. */
function firstMarkerDamage(store: StoreLayout, plan: Plan): Damage | undefined {
  return firstShapeDamage(store, plan, [new Map(), new Map()], undefined, shapeDamage, 0);
}

/** plan.place as a shapes job (object-shapes.ts) with a fresh cursor. */
function shapesOf(store: StoreLayout, plan: Plan): ShapesJob {
  const n = plan.place.length;
  const job: ShapesJob = {
    kind: 'shapes',
    store,
    integrity: new Array<string>(n),
    sizes: new Float64Array(n),
    exec: new Uint8Array(n),
    claims: newClaims(),
  };
  for (let i = 0; i < n; i++) {
    const f = plan.place[i]!.file;
    job.integrity[i] = f.type === 'file' ? f.integrity : '';
    if (f.type !== 'file') continue;
    job.sizes[i] = f.size;
    job.exec[i] = f.exec ? 1 : 0;
  }
  return job;
}

/**
 * After a failed build of a tree whose kept objects were not checked (§Check, *Kept entries*):
 * throw the first object of the plan that link() cannot use (gone, say by `verify --repair`, or a
 * directory) as the check would have (EPSTORE_INTEGRITY, the build's error as its cause); the dry
 * run asks the same. An ENOENT of a link() from an object that another process has put back since
 * still names that object. Returns when the failure had another cause, or when looking fails.
 */
export function refuseUnlinkableObjects(
  store: StoreLayout,
  plan: Plan,
  to: readonly PlanPackage[],
  failure?: unknown,
): void {
  let bad: Damage | undefined;
  try {
    bad =
      firstShapeDamage(store, plan, [new Map(), new Map()], undefined, unlinkable) ??
      missingObjectOf(store, plan, failure);
  } catch {
    return; // an lstat failed (EACCES, EIO): the build's own error says more
  }
  if (bad) throw damagedObject(bad, to, failure);
}

/** The placed file whose object a link()'s ENOENT names, when its source was what was missing. */
function missingObjectOf(store: StoreLayout, plan: Plan, failure: unknown): Damage | undefined {
  const { path: at, dest } = (failure ?? {}) as { path?: unknown; dest?: unknown };
  if (errnoCode(failure) !== 'ENOENT' || typeof at !== 'string') return undefined;
  if (!at.startsWith(`${store.objects}/`)) return undefined;
  // link() says ENOENT for a missing directory of the new name too, naming the source all the same
  if (typeof dest !== 'string' || !fs.existsSync(path.dirname(dest))) return undefined;
  const named: Judge = (file) => (file === at ? MISSING : undefined); // the same walk, no lstat
  return firstShapeDamage(store, plan, [new Map(), new Map()], undefined, named);
}

function damagedObject(bad: Damage, to: readonly PlanPackage[], cause?: unknown): PstoreError {
  const key = fileObjectKey(bad.f);
  const owner = ownerOf(to, bad.f.path);
  const entry = owner ? `${owner.name}@${owner.version}` : 'its entry';
  return new PstoreError(
    'EPSTORE_INTEGRITY',
    `object ${key} of ${entry} (${bad.f.path}) is damaged in the store: ${bad.why}`,
    {
      subject: key,
      hint: repairHint(entry),
      ...(cause === undefined ? {} : { cause }),
      data: {
        reason: bad.why === MISSING ? 'missing' : 'corrupt',
        object: key,
        path: bad.f.path,
        ...(owner ? { entry: owner } : {}),
      },
    },
  );
}

function ownerOf(pkgs: readonly PlanPackage[], rel: string): PackageRef | undefined {
  return pkgs.find((p) => p.manifest.files.some((f) => f.path === rel))?.ref;
}
