// The store handle: openStore → add / list / resolve / info / manifest / verify / gc / whyKept /
// du / owners / prefix / export / import / push / pull. What a command does not call is loaded on
// first use (ingestion, verification, gc, transfers, the prefix methods), so that each command
// compiles only what it runs (SPEC.md §Start-up cost).

import path from 'node:path';
import type { Readable } from 'node:stream';
import type { LayoutKind } from '../core/names.js';
import type { EntryRecord, Manifest } from '../core/types.js';
import type { GcOptions, GcResult } from '../gc/collect.js';
import type { StoreUsage } from '../gc/usage.js';
import type { GcWhy } from '../gc/why.js';
import type { AddOptions, AddResult, AddSource } from '../ingest/add.js';
import {
  createContext,
  storeExists,
  type StoreContext,
  type StoreOptions,
} from '../store/context.js';
import { readManifestFile } from '../store/manifests.js';
import { entryInfo, listStoreEntries, resolveEntry, type EntryInfo } from '../store/query.js';
import type { VerifyOptions, VerifyResult } from '../store/verify.js';
import type { ExportOptions, ExportResult } from '../transfer/export.js';
import type { ImportOptions, ImportResult } from '../transfer/import.js';
import type { Lockfile } from '../transfer/lockfile.js';
import type { PullResult } from '../transfer/oci/pull-result.js';
import type { PushResult } from '../transfer/oci/push.js';
import type { RemoteOptions } from '../transfer/oci/session.js';
import { guarded } from './boundary.js';
import { openPrefix } from './prefix.js';
import type { EntryRefs, Prefix } from './prefix-handle.js';
import { refStrings } from './prefix-ops.js';
import type { RegisteredPathOwners } from './registered-owners.js';

/** push and pull options: a lockfile instead of refs moves exactly its entries (and its index) */
export type RemoteTransferOptions = RemoteOptions & {
  /** move exactly the lockfile's entries (the refs are then ignored), and its index */
  lock?: Lockfile;
};

/** A content-addressed store: entries (name, version, file tree) and the objects they share. */
export interface Store {
  /** the store directory, absolute */
  readonly root: string;
  /** whether the store directory exists (reading commands refuse a mistyped store instead of answering "empty") */
  exists(): Promise<boolean>;
  /** ingest a directory, a tar (file or stream) or files in memory as the entry NAME@VERSION */
  add(source: AddSource, opts: AddOptions): Promise<AddResult>;
  /** every entry, oldest add first */
  list(): Promise<EntryRecord[]>;
  /** the entry `ref` names (NAME, NAME@VERSION or an id prefix); EPSTORE_NOT_FOUND if none */
  resolve(ref: string): Promise<EntryRecord>;
  /** an entry's record and counts; with `paths`, every path it ships */
  info(ref: string, opts?: { paths?: boolean }): Promise<EntryInfo>;
  /** an entry's manifest (its file tree) */
  manifest(ref: string): Promise<Manifest>;
  /** rehash everything; `repair` removes damaged objects and manifests so that re-adding restores them */
  verify(opts?: VerifyOptions): Promise<VerifyResult>;
  /** remove entries no prefix needs (after a grace period) and objects no entry needs */
  gc(opts?: GcOptions): Promise<GcResult>;
  /** why gc keeps the entry REF names (prefix generations, a transaction, the grace period), or that it would not */
  whyKept(ref: string, opts?: { graceMs?: number }): Promise<GcWhy>;
  /** disk usage: store size, objects, entries, bytes shared by dedup and hard links, per-prefix links */
  du(): Promise<StoreUsage>;
  /**
   * which active packages own each path, in the prefix registered with this store that contains it
   * (relative paths are taken from the working directory); `prefix` null when none does
   */
  owners(paths: string[]): Promise<RegisteredPathOwners[]>;
  /** a prefix this store activates entries into; `layout` applies when the prefix is created */
  prefix(dir: string, opts?: { layout?: LayoutKind }): Prefix;
  /** write the entries (refs) and everything they need into a bundle file */
  export(refs: EntryRefs, file: string, opts?: ExportOptions): Promise<ExportResult>;
  /** verify a bundle (a file path or a stream) completely, then add its entries */
  import(source: string | Readable, opts?: ImportOptions): Promise<ImportResult>;
  /** upload entries (or a lockfile's entries, then its index) to `oci://HOST[:PORT]/REPOSITORY` */
  push(refs: string[], remote: string, opts?: RemoteTransferOptions): Promise<PushResult>;
  /** download the entries the store lacks; nothing is imported before every byte is verified */
  pull(refs: string[], remote: string, opts?: RemoteTransferOptions): Promise<PullResult>;
}

/** Open the store at `opts.path` (else $PSTORE_STORE, else the XDG default); created on first write. */
export function openStore(opts: StoreOptions = {}): Store {
  const ctx: StoreContext = createContext(opts);
  return guarded<Store>({
    root: ctx.root,
    exists: () => storeExists(ctx),
    // add and verify load on first use too: status and activate never compile ingestion or zlib.
    add: async (source, o) => (await import('../ingest/add.js')).addEntry(ctx, source, o),
    list: () => listStoreEntries(ctx),
    resolve: (ref) => resolveEntry(ctx, ref),
    info: (ref, o) => entryInfo(ctx, ref, o),
    manifest: async (ref) => readManifestFile(ctx.layout, (await resolveEntry(ctx, ref)).id),
    verify: async (o) => (await import('../store/verify.js')).verifyStore(ctx, o),
    // gc, export and import load on first use: node-tar and fs-extra cost every command start-up.
    gc: async (o) => (await import('../gc/collect.js')).collectGarbage(ctx, o),
    whyKept: async (ref, o) =>
      (await import('../gc/why.js')).explainKeep(ctx, await resolveEntry(ctx, ref), o),
    owners: async (paths) => (await import('./registered-owners.js')).registeredOwners(ctx, paths),
    du: async () => (await import('../gc/usage.js')).storeUsage(ctx),
    prefix: (dir, o) => guarded(openPrefix(ctx, dir, o)),
    export: async (refs, file, o) =>
      (await import('../transfer/export.js')).exportBundle(
        ctx,
        await Promise.all(refStrings([refs]).map((r) => resolveEntry(ctx, r))),
        file,
        o,
      ),
    import: async (source, o) => {
      const { importBundle, openBundle } = await import('../transfer/import.js');
      if (typeof source !== 'string') return importBundle(ctx, source, 'stream', o);
      const file = path.resolve(source);
      const { stream, size } = await openBundle(file);
      return importBundle(ctx, stream, file, { ...o, size });
    },
    push: async (refs, remote, o) =>
      (await import('../transfer/oci/push.js')).pushToRemote(ctx, refs, remote, o),
    // A lockfile the store already holds: answered without loading the OCI client (warm sync).
    pull: async (refs, remote, o) =>
      (o?.lock &&
        (await (
          await import('../transfer/oci/present.js')
        ).pulledAlready(ctx, o.lock, remote, o.dryRun ?? false))) ||
      (await import('../transfer/oci/pull.js')).pullFromRemote(ctx, refs, remote, o),
  });
}
