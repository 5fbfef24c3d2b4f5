// Index records for entries (SPEC.md §Index): `entries` id → EntryRecord, `latest` name\0version →
// id of the latest add of that name@version, `meta` seq → the store-wide add counter.

import { PstoreError } from '../core/errors.js';
import { splitRef } from '../core/ref.js';
import type { EntryRecord, Manifest } from '../core/types.js';
import { summarizeManifest } from '../core/manifest.js';
import type { IndexDb } from './index-db.js';

const subs = (db: IndexDb) => ({
  entries: db.sublevel<string, EntryRecord>('entries', { valueEncoding: 'json' }),
  latest: db.sublevel<string, string>('latest', { valueEncoding: 'json' }),
  meta: db.sublevel<string, number>('meta', { valueEncoding: 'json' }),
});

/** A batch operation on any sublevel; level's types cannot express a mixed-sublevel batch. */
export interface SubOp {
  type: 'put' | 'del';
  sublevel: unknown;
  key: string;
  value?: unknown;
}

// `sync` is classic-level's (LevelDB fsyncs its log); an index in memory ignores it.
const SYNCED = { sync: true } as object;

function commitBatch(db: IndexDb, ops: SubOp[]): Promise<void> {
  return db.batch(ops as never, SYNCED);
}

const nameVersionKey = (name: string, version: string) => `${name}\0${version}`;

/** In-process serialization of read-modify-write on the counter (other processes cannot have the db open). */
let chain: Promise<unknown> = Promise.resolve();
function serialized<T>(fn: () => Promise<T>): Promise<T> {
  const next = chain.then(fn, fn);
  chain = next.catch(() => {});
  return next;
}

/** Record an entry (or re-record it as the latest add of its name@version) in one synced batch. */
/** Record a manifest's entry (id and integrity from identifyManifest), added now. */
export function registerManifest(
  db: IndexDb,
  manifest: Manifest,
  ident: { id: string; integrity: string },
): Promise<EntryRecord> {
  return registerEntry(db, {
    id: ident.id,
    name: manifest.name,
    version: manifest.version,
    integrity: ident.integrity,
    markers: manifest.markers,
    ...summarizeManifest(manifest),
    addedAt: new Date().toISOString(),
  });
}

export function registerEntry(
  db: IndexDb,
  record: Omit<EntryRecord, 'seq' | 'lastAddedAt'>,
): Promise<EntryRecord> {
  return serialized(async () => {
    const s = subs(db);
    const seq = ((await s.meta.get('seq')) ?? 0) + 1;
    const previous = await s.entries.get(record.id);
    const full: EntryRecord = {
      ...record,
      addedAt: previous?.addedAt ?? record.addedAt,
      lastAddedAt: record.addedAt,
      seq,
    };
    await commitBatch(db, [
      { type: 'put', sublevel: s.entries, key: record.id, value: full },
      {
        type: 'put',
        sublevel: s.latest,
        key: nameVersionKey(record.name, record.version),
        value: record.id,
      },
      { type: 'put', sublevel: s.meta, key: 'seq', value: seq },
    ]);
    return full;
  });
}

export async function listEntries(db: IndexDb): Promise<EntryRecord[]> {
  const out: EntryRecord[] = [];
  for await (const value of subs(db).entries.values()) out.push(value);
  return out;
}

export async function listEntryIds(db: IndexDb): Promise<string[]> {
  return subs(db).entries.keys().all();
}

/** Forget entries (gc). The latest pointer moves to the newest remaining entry of that name@version. */
export async function unregisterEntries(db: IndexDb, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  const s = subs(db);
  const gone = new Set(ids);
  const remaining = (await listEntries(db)).filter((e) => !gone.has(e.id));
  const newest = new Map<string, EntryRecord>();
  for (const e of remaining) {
    const k = nameVersionKey(e.name, e.version);
    if ((newest.get(k)?.seq ?? -1) < e.seq) newest.set(k, e);
  }
  const ops: SubOp[] = ids.map((id) => ({ type: 'del', sublevel: s.entries, key: id }));
  for await (const [k, id] of s.latest.iterator()) {
    if (!gone.has(id)) continue;
    const replacement = newest.get(k);
    ops.push(
      replacement
        ? { type: 'put', sublevel: s.latest, key: k, value: replacement.id }
        : { type: 'del', sublevel: s.latest, key: k },
    );
  }
  await commitBatch(db, ops);
}

const HEX_ID = /^[0-9a-f]{8,40}$/;
/** Shorter than an id prefix may be: said so when nothing else matches. */
const SHORT_HEX = /^[0-9a-f]{1,7}$/;

export interface ResolveOptions {
  /** the entries active in the prefix the ref is used for: a bare NAME means the active one */
  active?: readonly { name: string; id: string }[];
}

/**
 * Resolve a ref: an entry id (or a unique prefix of at least 8 hex digits), NAME@VERSION (the
 * latest added with that version) or a bare NAME: the version active in the prefix (`active`),
 * else the only entry of that name; several → EPSTORE_AMBIGUOUS listing them (an old tar re-added
 * never silently becomes what NAME means). Nothing → EPSTORE_NOT_FOUND listing that name's entries.
 */
export async function resolveRef(
  db: IndexDb,
  ref: string,
  opts: ResolveOptions = {},
): Promise<EntryRecord> {
  const s = subs(db);
  if (HEX_ID.test(ref)) {
    const byId = await resolveIdPrefix(db, ref);
    if (byId) return byId;
  }
  const { name, version } = splitRef(ref);
  const named = name === '' ? [] : await entriesNamed(db, name);
  if (version !== undefined) {
    const id = await s.latest.get(nameVersionKey(name, version));
    const rec = id === undefined ? undefined : await s.entries.get(id);
    if (rec) return rec;
  } else {
    const active = opts.active?.find((a) => a.name === name);
    const rec =
      named.find((e) => e.id === active?.id) ?? (named.length === 1 ? named[0] : undefined);
    if (rec) return rec;
    if (named.length > 1) throw ambiguous(ref, named, `${name} has ${named.length} entries`);
  }
  throw notFound(ref, named);
}

async function entriesNamed(db: IndexDb, name: string): Promise<EntryRecord[]> {
  const out: EntryRecord[] = [];
  for await (const e of subs(db).entries.values()) if (e.name === name) out.push(e);
  return out.sort((a, b) => a.seq - b.seq);
}

const candidate = (e: EntryRecord) => `${e.name}@${e.version} (${e.id.slice(0, 12)})`;
const refOf = (e: EntryRecord) => ({ name: e.name, version: e.version, id: e.id });

function ambiguous(ref: string, matches: EntryRecord[], why: string): PstoreError {
  return new PstoreError(
    'EPSTORE_AMBIGUOUS',
    `${JSON.stringify(ref)} is ambiguous: ${why}: ${matches.map(candidate).join(', ')}`,
    {
      subject: ref,
      hint: 'name one as NAME@VERSION or by its id',
      data: { candidates: matches.map(refOf) },
    },
  );
}

function notFound(ref: string, named: EntryRecord[]): PstoreError {
  const existing = named.length ? `; the store has ${named.map(candidate).join(', ')}` : '';
  return new PstoreError(
    'EPSTORE_NOT_FOUND',
    `no entry matches ${JSON.stringify(ref)}${existing}`,
    {
      subject: ref,
      ...(named.length ? { data: { candidates: named.map(refOf) } } : {}),
      ...(SHORT_HEX.test(ref) && !named.length
        ? { hint: 'an entry id prefix needs at least 8 hex digits' }
        : {}),
    },
  );
}

async function resolveIdPrefix(db: IndexDb, prefix: string): Promise<EntryRecord | undefined> {
  const matches: EntryRecord[] = [];
  for await (const e of subs(db).entries.values({ gte: prefix, lt: `${prefix}\xff` })) {
    matches.push(e);
  }
  if (matches.length > 1)
    throw ambiguous(prefix, matches, `${matches.length} entry ids start with it`);
  return matches[0];
}
