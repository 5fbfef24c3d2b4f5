// Damaged store content is never installed (SPEC.md §Check): before a transaction changes anything,
// every object it will link is lstat'ed once — a regular file of the manifest's size with the key's
// exec bit — and, with `--verify`, rehashed. A mismatch is EPSTORE_INTEGRITY naming the object and
// the entry. Cost: one lstat per distinct object placed (32 at a time); hashing only on request.

import { promises as fsp } from 'node:fs';
import pMap from 'p-map';
import { PstoreError, errnoCode } from '../core/errors.js';
import { fileObjectKey } from '../core/object-key.js';
import type { PackageRef } from '../core/package-ref.js';
import { objectPath, type StoreLayout } from '../store/layout.js';
import { checkObject } from '../store/objects.js';
import type { ManifestFile } from '../core/types.js';
import type { PlanPackage } from './plan.js';

type FileRecord = Extract<ManifestFile, { type: 'file' }>;

/** The hint every "the store's copy is damaged" error carries. */
export function repairHint(entry: string): string {
  return `run \`pstore verify --repair\`, then re-add or import ${entry}`;
}

/** Why the object at `file` cannot stand for `f`, or undefined when it can. */
async function damage(
  store: StoreLayout,
  key: string,
  f: FileRecord,
  hash: boolean,
): Promise<string | undefined> {
  const file = objectPath(store, key);
  const st = await fsp.lstat(file).catch((err: unknown) => {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  });
  if (!st) return 'it is missing';
  if (!st.isFile()) return 'it is not a regular file';
  if (st.size !== f.size) return `it has ${st.size} bytes, the manifest says ${f.size}`;
  if (((st.mode & 0o100) !== 0) !== f.exec) return `its mode is ${(st.mode & 0o777).toString(8)}`;
  if (hash && (await checkObject(store, key, f.integrity)).status !== 'ok')
    return "its bytes do not hash to the manifest's integrity";
  return undefined;
}

export async function refuseDamagedObjects(
  store: StoreLayout,
  files: readonly FileRecord[],
  to: readonly PlanPackage[],
  opts: { verify?: boolean | undefined } = {},
): Promise<void> {
  const byKey = new Map<string, FileRecord>();
  for (const f of files) byKey.set(fileObjectKey(f), f);
  const found = await pMap(
    byKey,
    async ([key, f]) => {
      const why = await damage(store, key, f, opts.verify === true);
      return why === undefined ? undefined : { key, f, why };
    },
    { concurrency: opts.verify ? 8 : 32 },
  );
  const bad = found.find((d) => d !== undefined);
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
