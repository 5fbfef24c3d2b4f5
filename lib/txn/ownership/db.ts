// The ownership index on disk: a LevelDB at <state>/ownership-v1 (SPEC.md §Ownership index).
// Keys: `m` → IndexMeta (JSON); `f:PATH` → OwnerEntry (encodeEntry: a NUL-delimited string).
// Opened only under the prefix writer lock (or the readers' lock, by verify), so one process has
// it at a time. Every change is one atomic batch that
// carries the meta record with the entries it describes; a rebuild is made under a name of its own
// and renamed into place, so no process ever opens a half-made index.

import { isLocked } from '../../store/index-health.js';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import * as v from 'valibot';
import type { AbstractLevel } from 'abstract-level';
import { TEMP_PREFIX } from '../../core/names.js';
import { crashpoint } from '../../core/crashpoint.js';
import type { PrefixPaths } from '../../prefix/layout.js';
import {
  encodeEntry,
  INDEX_FORMAT,
  IndexMetaSchema,
  parseEntry,
  type IndexMeta,
  type OwnerEntry,
} from './entry.js';

type Db = AbstractLevel<string | Buffer | Uint8Array, string, string>;

const META = 'm';
const key = (rel: string) => `f:${rel}`;
// Every key below DIR/ sorts between `f:DIR/` and `f:DIR0` ('0' follows '/').
const belowRange = (rel: string) => ({ gt: `f:${rel}/`, lt: `f:${rel}0` });

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
    const values = await this.db.getMany(paths.map(key));
    const out = new Map<string, OwnerEntry>();
    paths.forEach((rel, i) => {
      if (values[i] !== undefined) out.set(rel, checked(values[i], rel));
    });
    return out;
  }

  /** Every entry strictly below a directory. */
  async below(rel: string): Promise<Map<string, OwnerEntry>> {
    const out = new Map<string, OwnerEntry>();
    for await (const [k, value] of this.db.iterator(belowRange(rel))) {
      out.set(k.slice(2), checked(value, k.slice(2)));
    }
    return out;
  }

  /** Every entry, for verify. */
  async all(): Promise<Map<string, OwnerEntry>> {
    const out = new Map<string, OwnerEntry>();
    for await (const [k, value] of this.db.iterator({ gt: 'f:', lt: 'f;' }))
      out.set(k.slice(2), checked(value, k.slice(2)));
    return out;
  }

  /** One atomic batch: these entries (undefined: the path is gone) and the meta that describes them. */
  async write(
    changes: ReadonlyMap<string, OwnerEntry | undefined>,
    meta: IndexMeta,
  ): Promise<void> {
    const ops = batchOps(changes, meta);
    crashpoint('ownership:before-write');
    await this.db.batch(ops);
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
      await db.batch(batchOps(entries, meta));
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

type BatchOp = { type: 'put'; key: string; value: string } | { type: 'del'; key: string };

/**
 * One batch's operations as an array: LevelDB takes it in one native call, where a chained batch
 * crosses into native code once per key.
 */
function batchOps(
  changes: ReadonlyMap<string, OwnerEntry | undefined>,
  meta: IndexMeta,
): BatchOp[] {
  const ops: BatchOp[] = [];
  for (const [rel, e] of changes)
    ops.push(
      e ? { type: 'put', key: key(rel), value: encodeEntry(e) } : { type: 'del', key: key(rel) },
    );
  ops.push({ type: 'put', key: META, value: JSON.stringify(meta) });
  return ops;
}

/** Remove the index (a damaged one, before its rebuild): it is derived data. */
export async function removeIndex(p: PrefixPaths): Promise<void> {
  await fsp.rm(ownershipDir(p), { recursive: true, force: true });
}

async function levelAt(dir: string, create: boolean): Promise<Db> {
  const { Level } = await (levelModule ??= import('level'));
  return new Level<string, string>(dir, { valueEncoding: 'utf8', createIfMissing: create });
}

/** The meta record's JSON; undefined (a schema failure, so a rebuild) when it is not JSON. */
function parseJson(text: string | undefined): unknown {
  try {
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

function checked(value: string, rel: string): OwnerEntry {
  const e = parseEntry(value, rel);
  if (!e) throw new DamagedIndex(`the entry of ${rel} is damaged`);
  return e;
}

async function exists(file: string): Promise<boolean> {
  return fsp.access(file).then(
    () => true,
    () => false,
  );
}
