// The ownership index on disk: a LevelDB at <state>/ownership-v1 (SPEC.md §Ownership index).
// Keys: `m` → IndexMeta (JSON); `d:DIR` → the entries of the paths directly in DIR (record.ts).
// Opened only under the prefix writer lock (or the readers' lock, by verify), so one process has
// it at a time. Every change is one atomic batch that
// carries the meta record with the entries it describes; a rebuild is made under a name of its own
// and renamed into place, so no process ever opens a half-made index.

import { isLocked } from '../../store/index-health.js';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import * as v from 'valibot';
import type { AbstractChainedBatch, AbstractLevel } from 'abstract-level';
import { TEMP_PREFIX } from '../../core/names.js';
import { crashpoint } from '../../core/crashpoint.js';
import { parentOf } from '../../core/safe-path.js';
import type { PrefixPaths } from '../../prefix/layout.js';
import { INDEX_FORMAT, IndexMetaSchema, type IndexMeta, type OwnerEntry } from './entry.js';
import { encodeRecord, parseRecord, splitPath } from './record.js';
import { compactAll, settleCompaction, type ClassicHandle } from './compaction.js';

type Db = AbstractLevel<string | Buffer | Uint8Array, string, string>;
type ChainedBatch = AbstractChainedBatch<Db, string, string>;

const META = 'm';
const dirKey = (dir: string) => `d:${dir}`;
// Every record below DIR/ sorts between `d:DIR/` and `d:DIR0` ('0' follows '/').
const belowRange = (dir: string) => ({ gt: `d:${dir}/`, lt: `d:${dir}0` });

/**
 * Tables of 1 MiB instead of LevelDB's 2 MiB (it raises anything smaller to 1 MiB): a merge of
 * level 1 into level 2 takes one table and the tables of level 2 it overlaps, so smaller tables
 * keep those merges smaller (compaction.ts).
 */
const TABLE_BYTES = 1024 * 1024;

/** Records per getMany call (records). */
const GET_SLICE = 1024;

/** Directory → its children's entries (keyed by full path), as stored. */
type Records = Map<string, Map<string, OwnerEntry>>;

let levelModule: Promise<typeof import('level')> | undefined;

/**
 * Start loading LevelDB's module now: a writer calls this before it waits for the prefix lock, so
 * the load overlaps the wait instead of lengthening the critical section. A failed load is
 * reported where the module is used.
 */
export function preloadIndexModule(): void {
  (levelModule ??= import('level')).catch(() => {});
}

export function ownershipDir(p: PrefixPaths): string {
  return p.ownership;
}

/** The index could not be read as one: rebuild it. */
export class DamagedIndex extends Error {}

/** An index an older pstore wrote in another format: not damage, but rebuilt all the same. */
export class OtherFormatIndex extends DamagedIndex {}

export class OwnershipDb {
  private constructor(private readonly db: Db) {}

  /** The index on disk, or undefined when there is none; DamagedIndex when LevelDB refuses it. */
  static async open(p: PrefixPaths): Promise<OwnershipDb | undefined> {
    const dir = ownershipDir(p);
    if (!(await exists(path.join(dir, 'CURRENT')))) return undefined;
    const db = await levelAt(dir, false);
    try {
      await db.open({ createIfMissing: false });
    } catch (err) {
      await db.close().catch(() => {});
      if (isLocked(err)) throw err;
      throw new DamagedIndex(`cannot open ${dir}: ${String(err)}`);
    }
    return new OwnershipDb(db);
  }

  /**
   * A new index describing the empty set, made where it belongs with no build aside: a new
   * prefix's first transaction opens one LevelDB instead of making, closing, renaming and opening
   * it again. Safe without the rename: until the batch carrying `meta` is written, the index has no
   * meta record, which the next open reads as damage and rebuilds (there is no entry to lose).
   */
  static async createEmpty(p: PrefixPaths, meta: IndexMeta): Promise<OwnershipDb> {
    await removeIndex(p); // what a killed creation left, if anything (no CURRENT: never opened)
    const db = await levelAt(ownershipDir(p), true);
    await db.open();
    try {
      crashpoint('ownership:before-empty-meta'); // the index is there, with no meta record yet
      await writeBatch(db, new Map(), meta);
    } catch (err) {
      await db.close();
      throw err;
    }
    return new OwnershipDb(db);
  }

  async meta(): Promise<IndexMeta> {
    const json = parseJson(await this.db.get(META));
    const r = v.safeParse(IndexMetaSchema, json);
    if (r.success) return r.output;
    const format = (json as { formatVersion?: unknown } | undefined)?.formatVersion;
    if (typeof format === 'number' && format !== INDEX_FORMAT)
      throw new OtherFormatIndex(`the index has format ${format}, not ${INDEX_FORMAT}`);
    throw new DamagedIndex('the meta record is missing or damaged');
  }

  /** The entries at these paths (absent paths are left out). */
  async get(paths: readonly string[]): Promise<Map<string, OwnerEntry>> {
    const out = new Map<string, OwnerEntry>();
    const dirs = paths.map((rel) => splitPath(rel)[0]);
    const records = await this.records([...new Set(dirs)]);
    paths.forEach((rel, i) => {
      const e = records.get(dirs[i]!)?.get(rel);
      if (e) out.set(rel, e);
    });
    return out;
  }

  /** The records of these directories (those without one are left out). */
  async records(dirs: readonly string[]): Promise<Records> {
    const out: Records = new Map();
    // In slices: LevelDB's getMany holds every value of one call natively at once (measured: a
    // 100k-path call added 100 MB to the resident set).
    for (let at = 0; at < dirs.length; at += GET_SLICE) {
      const slice = dirs.slice(at, at + GET_SLICE);
      const values = await this.db.getMany(slice.map(dirKey));
      slice.forEach((dir, i) => {
        if (values[i] !== undefined) out.set(dir, checked(values[i], dir));
      });
    }
    return out;
  }

  /** Every entry strictly below a directory: its own record and every record under it. */
  async below(rel: string): Promise<Map<string, OwnerEntry>> {
    const out = new Map((await this.records([rel])).get(rel));
    for await (const [k, value] of this.db.iterator(belowRange(rel)))
      for (const [path, e] of checked(value, k.slice(2))) out.set(path, e);
    return out;
  }

  /** Every entry, for verify. */
  async all(): Promise<Map<string, OwnerEntry>> {
    const out = new Map<string, OwnerEntry>();
    for await (const [k, value] of this.db.iterator({ gte: 'd:', lt: 'd;' }))
      for (const [path, e] of checked(value, k.slice(2))) out.set(path, e);
    return out;
  }

  /**
   * One atomic batch: these entries (undefined: the path is gone) and the meta that describes
   * them. `hasNoRecord`: directories the caller knows the index holds no record of (nothing
   * to read and merge).
   */
  async write(
    changes: EntryWrites,
    meta: IndexMeta,
    hasNoRecord?: (dir: string) => boolean,
  ): Promise<void> {
    await (await this.stage(changes, meta, hasNoRecord)).write();
  }

  /**
   * The batch write() would write, built and not written: a transaction builds it while its
   * apply runs and writes it once committed, or discards it (sync.ts). The index is unchanged
   * until write().
   */
  async stage(
    changes: EntryWrites,
    meta: IndexMeta,
    hasNoRecord?: (dir: string) => boolean,
  ): Promise<StagedBatch> {
    const batch = await buildBatch(
      this.db,
      changes,
      meta,
      (dirs) => this.records(dirs),
      hasNoRecord,
    );
    return {
      write: async () => {
        crashpoint('ownership:before-write');
        await batch.write();
      },
      discard: () => batch.close(),
    };
  }

  /**
   * Wait until LevelDB has done the compaction it has due (compaction.ts says why): before the
   * close that ends a writer's hold of the index, not before one that drops or rebuilds it.
   */
  async settle(): Promise<void> {
    await settleCompaction(this.db as ClassicHandle).catch(() => {});
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

/** Build a new index under a temp name from these entries, then put it in place of the old one. */
export async function rebuildAside(
  p: PrefixPaths,
  entries: ReadonlyMap<string, OwnerEntry>,
  meta: IndexMeta,
): Promise<void> {
  const dir = ownershipDir(p);
  const build = path.join(p.meta, `${TEMP_PREFIX}ownership-${randomBytes(4).toString('hex')}`);
  try {
    const db = await levelAt(build, true);
    await db.open();
    try {
      await writeBatch(db, entries, meta);
      await compactAll(db as ClassicHandle); // while a rebuild is expected to cost
    } finally {
      await db.close();
    }
    crashpoint('ownership:before-rename');
    await removeIndex(p);
    await fsp.rename(build, dir);
  } catch (err) {
    await fsp.rm(build, { recursive: true, force: true }).catch(() => {});
    throw err;
  }
}

/** What one batch writes: each path's entry after the change, undefined where the path is gone. */
export type EntryWrites = Iterable<readonly [string, OwnerEntry | undefined]>;

/** A batch built (OwnershipDb.stage): written whole, or discarded leaving the index as it was. */
export interface StagedBatch {
  write(): Promise<void>;
  discard(): Promise<void>;
}

/** Directories encoded between two turns of the event loop while a batch is built. */
const DIRS_PER_TURN = 64;

/**
 * One atomic batch, built and not yet written: each directory a change touches gets its record
 * rewritten whole (its stored children, from `stored`, with the changes applied; deleted when none
 * is left). A chained batch encodes each record into LevelDB's native batch at once, so no array
 * of every operation (nor the copy the array form makes of it) is alive at the end.
 */
async function buildBatch(
  db: Db,
  changes: EntryWrites,
  meta: IndexMeta,
  stored?: (dirs: readonly string[]) => Promise<Records>,
  hasNoRecord?: (dir: string) => boolean,
): Promise<ChainedBatch> {
  const byDir = writesByDir(changes);
  const dirs = [...byDir.keys()];
  const batch = db.batch();
  try {
    // Stored records are read a slice of directories at a time and dropped once encoded: a
    // 100k-path removal would otherwise hold every entry of the prefix's touched part twice.
    for (let at = 0; at < dirs.length; at += GET_SLICE) {
      const slice = dirs.slice(at, at + GET_SLICE);
      const toRead = stored ? slice.filter((dir) => !hasNoRecord?.(dir)) : [];
      const before = toRead.length ? await stored!(toRead) : undefined;
      for (const [i, dir] of slice.entries()) {
        // A batch staged during an apply takes the main thread while the apply waits; the turn
        // lets a wait that ends go on after one short run of directories, not after them all.
        if (i % DIRS_PER_TURN === DIRS_PER_TURN - 1) await nextTurn();
        const writes = byDir.get(dir)!;
        const children = before?.get(dir);
        const value = encodeRecord(children ? applied(children, writes) : writes);
        if (value !== '') batch.put(dirKey(dir), value);
        else batch.del(dirKey(dir));
      }
    }
    batch.put(META, JSON.stringify(meta));
  } catch (err) {
    await batch.close();
    throw err;
  }
  return batch;
}

async function writeBatch(db: Db, changes: EntryWrites, meta: IndexMeta): Promise<void> {
  await (await buildBatch(db, changes, meta)).write();
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A directory's writes, in the order given: each path once (a Map or a delta's writes). */
type DirWrites = (readonly [string, OwnerEntry | undefined])[];

function writesByDir(changes: EntryWrites): Map<string, DirWrites> {
  const byDir = new Map<string, DirWrites>();
  for (const change of changes) {
    const rel = change[0];
    const dir = parentOf(rel);
    const writes = byDir.get(dir);
    if (writes) writes.push(change);
    else byDir.set(dir, [change]);
  }
  return byDir;
}

function applied(children: Map<string, OwnerEntry>, writes: DirWrites): Map<string, OwnerEntry> {
  for (const [rel, e] of writes)
    if (e) children.set(rel, e);
    else children.delete(rel);
  return children;
}

/** Remove the index (a damaged one, before its rebuild): it is derived data. */
export async function removeIndex(p: PrefixPaths): Promise<void> {
  await fsp.rm(ownershipDir(p), { recursive: true, force: true });
}

async function levelAt(dir: string, create: boolean): Promise<Db> {
  const { Level } = await (levelModule ??= import('level'));
  return new Level<string, string>(dir, {
    valueEncoding: 'utf8',
    createIfMissing: create,
    maxFileSize: TABLE_BYTES,
  });
}

/** The meta record's JSON; undefined (a schema failure, so a rebuild) when it is not JSON. */
function parseJson(text: string | undefined): unknown {
  try {
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

function checked(value: string, dir: string): Map<string, OwnerEntry> {
  const record = parseRecord(value, dir);
  if (!record) throw new DamagedIndex(`the record of ${dir || '/'} is damaged`);
  return record;
}

async function exists(file: string): Promise<boolean> {
  return fsp.access(file).then(
    () => true,
    () => false,
  );
}
