// `du` (SPEC.md §Disk usage): what the store holds and what deduplication and hard links save,
// beside gc because both ask the same question of the same files: which objects do the entries
// and the registered prefixes' generations use. Read-only; the store lock is held shared so that
// no gc sweeps objects while they are counted.

import { promises as fsp, type Stats } from 'node:fs';
import path from 'node:path';
import pMap from 'p-map';
import { errnoCode } from '../core/errors.js';
import { fileObjectKey } from '../core/object-key.js';
import type { PackageRef } from '../core/package-ref.js';
import { readdirOrEmpty } from '../fs/dir.js';
import { lockStore, type StoreContext } from '../store/context.js';
import { objectPath } from '../store/layout.js';
import { listManifestIds, readManifestFile } from '../store/manifests.js';
import { listPrefixes } from '../store/prefixes.js';
import { prefixPaths } from '../prefix/layout.js';
import { readCurrent, readCurrentGeneration, readPrefixRecord } from '../prefix/state.js';

/** How one registered prefix uses the store's objects. */
export interface PrefixLinks {
  /** the prefix directory */
  dir: string;
  /** its current generation (0: empty), or null when its state is missing (unmounted? deleted?) */
  generation: number | null;
  /** active packages */
  packages: number;
  /** regular files of the active packages */
  files: number;
  /** of those, hard links to the store's object (they cost no space of their own) */
  linked: number;
  /** of those, separate copies (`--link copy`, reflinks, or another filesystem) */
  copied: number;
  /** of those, absent from the prefix (pstore verify --prefix says more) */
  missing: number;
}

/** Disk usage of a store ({@link Store.du}); every size in bytes. */
export interface StoreUsage {
  /** the store directory, absolute */
  store: string;
  /** bytes of every file under the store (apparent sizes; a hard-linked inode counted once) */
  bytes: number;
  /** file objects in the store */
  objects: number;
  /** total size of the file objects, in bytes */
  objectBytes: number;
  /** entries in the store */
  entries: number;
  /** the regular-file bytes of every entry, as if each were stored alone */
  entryBytes: number;
  /** entryBytes minus the bytes of the objects the entries use: saved by sharing objects */
  sharedBytes: number;
  /** bytes saved by hard links from prefixes to objects: size × (links − 1) per object */
  linkedBytes: number;
  /** one item per prefix registered with the store */
  prefixes: PrefixLinks[];
}

export async function storeUsage(ctx: StoreContext): Promise<StoreUsage> {
  await using _lock = await lockStore(ctx, 'shared');
  const { entries, entryBytes, used } = await entryObjects(ctx);
  const objects = await objectTotals(ctx, used);
  const prefixes = await pMap(await listPrefixes(ctx.layout), (reg) => prefixLinks(ctx, reg), {
    concurrency: 2,
  });
  return {
    store: ctx.root,
    bytes: await treeBytes(ctx.root),
    objects: objects.count,
    objectBytes: objects.bytes,
    entries,
    entryBytes,
    sharedBytes: entryBytes - objects.usedBytes,
    linkedBytes: objects.linkedBytes,
    prefixes: prefixes.sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0)),
  };
}

/** Every manifest once: how many entries, their bytes alone, and the object keys they use. */
async function entryObjects(ctx: StoreContext) {
  const used = new Set<string>();
  let entryBytes = 0;
  const ids = await listManifestIds(ctx.layout);
  for (const id of ids) {
    const manifest = await readManifestFile(ctx.layout, id);
    for (const f of manifest.files) {
      if (f.type !== 'file') continue;
      entryBytes += f.size;
      used.add(fileObjectKey(f));
    }
  }
  return { entries: ids.length, entryBytes, used };
}

/** The file objects' sums, counted as they are statted: nothing kept per object. */
interface ObjectTotals {
  count: number;
  bytes: number;
  /** bytes of the objects some entry uses */
  usedBytes: number;
  /** size × (links − 1), summed */
  linkedBytes: number;
}

async function objectTotals(ctx: StoreContext, used: ReadonlySet<string>): Promise<ObjectTotals> {
  const totals: ObjectTotals = { count: 0, bytes: 0, usedBytes: 0, linkedBytes: 0 };
  for (const shard of await readdirOrEmpty(ctx.layout.objects)) {
    const dir = path.join(ctx.layout.objects, shard);
    const count = async (name: string) => {
      const st = await lstatOrUndefined(path.join(dir, name));
      if (!st?.isFile()) return;
      totals.count++;
      totals.bytes += st.size;
      if (used.has(`${shard}${name}`)) totals.usedBytes += st.size;
      totals.linkedBytes += st.size * (st.nlink - 1);
    };
    await pMap(await readdirOrEmpty(dir), count, { concurrency: 16 });
  }
  return totals;
}

/** Apparent bytes of every regular file under `dir`, each inode once. */
async function treeBytes(dir: string, seen = new Set<number>()): Promise<number> {
  let total = 0;
  for (const ent of await fsp.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = path.join(dir, ent.name);
    if (ent.isDirectory()) total += await treeBytes(p, seen);
    else if (ent.isFile()) {
      const st = await lstatOrUndefined(p);
      if (st && !seen.has(st.ino)) {
        seen.add(st.ino);
        total += st.size;
      }
    }
  }
  return total;
}

async function prefixLinks(
  ctx: StoreContext,
  reg: { dir: string; layout: 'inplace' | 'generations' },
): Promise<PrefixLinks> {
  const paths = prefixPaths(reg.dir, reg.layout);
  const links: PrefixLinks = {
    dir: reg.dir,
    generation: null,
    packages: 0,
    files: 0,
    linked: 0,
    copied: 0,
    missing: 0,
  };
  if (!(await readPrefixRecord(paths))) return links;
  const gen = await readCurrentGeneration(paths, await readCurrent(paths));
  links.generation = gen.generation;
  links.packages = gen.packages.length;
  for (const pkg of gen.packages) await countLinks(ctx, reg.dir, pkg, links);
  return links;
}

/** Compare each regular file of `pkg` in the prefix with its object: the same inode is a link. */
async function countLinks(
  ctx: StoreContext,
  dir: string,
  pkg: PackageRef,
  links: PrefixLinks,
): Promise<void> {
  const files = (await readManifestFile(ctx.layout, pkg.id)).files;
  await pMap(
    files,
    async (f) => {
      if (f.type !== 'file') return;
      links.files++;
      const [placed, object] = await Promise.all([
        lstatOrUndefined(path.join(dir, f.path)),
        lstatOrUndefined(objectPath(ctx.layout, fileObjectKey(f))),
      ]);
      if (!placed) links.missing++;
      else if (object && placed.ino === object.ino && placed.dev === object.dev) links.linked++;
      else links.copied++;
    },
    { concurrency: 16 },
  );
}

async function lstatOrUndefined(p: string): Promise<Stats | undefined> {
  try {
    return await fsp.lstat(p);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
    throw err;
  }
}
