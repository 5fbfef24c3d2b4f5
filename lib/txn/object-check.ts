// Damaged store content is never installed (SPEC.md §Check): before a transaction changes anything,
// every object it will link is lstat'ed once, in one synchronous loop (a regular file of the
// manifest's size with the key's exec bit), and, with `--verify`, rehashed. A mismatch is EPSTORE_INTEGRITY naming the object and
// the entry. Cost: one lstat per distinct object placed; hashing (8 at a time) only on request.

import fs from 'node:fs';
import pMap from 'p-map';
import { PstoreError } from '../core/errors.js';
import { fileObjectKey } from '../core/object-key.js';
import type { PackageRef } from '../core/package-ref.js';
import { objectPath, type StoreLayout } from '../store/layout.js';
import type { ManifestFile } from '../core/types.js';
import type { PlanPackage } from './plan.js';

type FileRecord = Extract<ManifestFile, { type: 'file' }>;

/** The hint every "the store's copy is damaged" error carries. */
export function repairHint(entry: string): string {
  return `run \`pstore verify --repair\`, then re-add or import ${entry}`;
}

/** Why the object's inode cannot stand for `f` (a cheap lstat), or undefined when it can. */
function shapeDamage(file: string, f: FileRecord): string | undefined {
  const st = fs.lstatSync(file, { throwIfNoEntry: false });
  if (!st) return 'it is missing';
  if (!st.isFile()) return 'it is not a regular file';
  if (st.size !== f.size) return `it has ${st.size} bytes, the manifest says ${f.size}`;
  if (((st.mode & 0o100) !== 0) !== f.exec) return `its mode is ${(st.mode & 0o777).toString(8)}`;
  return undefined;
}

interface Damage {
  key: string;
  f: FileRecord;
  why: string;
}

/** One synchronous lstat per distinct object: no promise per file (SPEC.md §Activation cost). */
function firstShapeDamage(store: StoreLayout, byKey: Map<string, FileRecord>): Damage | undefined {
  for (const [key, f] of byKey) {
    const why = shapeDamage(objectPath(store, key), f);
    if (why !== undefined) return { key, f, why };
  }
  return undefined;
}

async function firstHashDamage(
  store: StoreLayout,
  byKey: Map<string, FileRecord>,
): Promise<Damage | undefined> {
  // Loaded for --verify alone: the store's object code (ssri and its streams) is not compiled by
  // every activation, which checks sizes only.
  const { checkObject } = await import('../store/objects.js');
  const found = await pMap(
    byKey,
    async ([key, f]) =>
      (await checkObject(store, key, f.integrity)).status === 'ok'
        ? undefined
        : { key, f, why: "its bytes do not hash to the manifest's integrity" },
    { concurrency: 8 },
  );
  return found.find((d) => d !== undefined);
}

export async function refuseDamagedObjects(
  store: StoreLayout,
  files: readonly FileRecord[],
  to: readonly PlanPackage[],
  opts: { verify?: boolean | undefined } = {},
): Promise<void> {
  const byKey = new Map<string, FileRecord>();
  for (const f of files) byKey.set(fileObjectKey(f), f);
  const bad =
    firstShapeDamage(store, byKey) ??
    (opts.verify === true ? await firstHashDamage(store, byKey) : undefined);
  if (!bad) return;
  const owner = ownerOf(to, bad.f.path);
  const entry = owner ? `${owner.name}@${owner.version}` : 'its entry';
  throw new PstoreError(
    'EPSTORE_INTEGRITY',
    `object ${bad.key} of ${entry} (${bad.f.path}) is damaged in the store: ${bad.why}`,
    {
      subject: bad.key,
      hint: repairHint(entry),
      data: {
        reason: bad.why === 'it is missing' ? 'missing' : 'corrupt',
        object: bad.key,
        path: bad.f.path,
        ...(owner ? { entry: owner } : {}),
      },
    },
  );
}

function ownerOf(pkgs: readonly PlanPackage[], rel: string): PackageRef | undefined {
  return pkgs.find((p) => p.manifest.files.some((f) => f.path === rel))?.ref;
}
