// Damaged store content is never installed (SPEC.md §Check): before a transaction changes anything,
// every object it will link is lstat'ed once, in one synchronous loop (a regular file of the
// manifest's size with the key's exec bit), and, with `--verify`, rehashed. A mismatch is
// EPSTORE_INTEGRITY naming the object and the entry. Cost: one lstat per distinct object placed;
// hashing (8 at a time) only on request. A generations tree's kept entries are the exception
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

type FileRecord = Extract<ManifestFile, { type: 'file' }>;

/** The hint every "the store's copy is damaged" error carries. */
export function repairHint(entry: string): string {
  return `run \`pstore verify --repair\`, then re-add or import ${entry}`;
}

/** What is wrong with the object at `file` for `f` (at most one lstat), or undefined if nothing. */
type Judge = (file: string, f: FileRecord) => string | undefined;

const MISSING = 'it is missing';

/** Why the object's inode cannot stand for `f` (a cheap lstat), or undefined when it can. */
const shapeDamage: Judge = (file, f) => {
  const st = fs.lstatSync(file, { throwIfNoEntry: false });
  if (!st) return MISSING;
  if (!st.isFile()) return 'it is not a regular file';
  if (st.size !== f.size) return `it has ${st.size} bytes, the manifest says ${f.size}`;
  if (((st.mode & 0o100) !== 0) !== f.exec) return `its mode is ${(st.mode & 0o777).toString(8)}`;
  return undefined;
};

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
): Damage | undefined {
  for (let i = 0; i < plan.place.length; i++) {
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
 * each placed file, for the apply.
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
  // The paths of a partial check are not handed over: the apply works them out as it links.
  const shape =
    opts.only && !verify
      ? firstShapeDamageIn(store, opts.only, distinct)
      : firstShapeDamage(store, plan, distinct, paths);
  const bad = shape ?? (verify ? await firstHashDamage(store, distinct) : undefined);
  if (bad) throw damagedObject(bad, to);
  return paths;
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
