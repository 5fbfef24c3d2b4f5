// pstore's public API. Everything the CLI does goes through here; installers use the same calls.
//
//   const store = openStore({ path: '/var/cache/pstore' });
//   const entry = await store.add('./staged', { name: 'foo', version: '1.0' });

import type { AddOptions, AddOrigin, AddResult, AddSource } from './ingest/add.js';
import type { GcOptions, GcResult } from './gc/collect.js';
import type { StoreOptions } from './store/context.js';
import type { EntryInfo } from './store/query.js';
import type { VerifyOptions, VerifyResult } from './store/verify.js';
import type { ExportOptions, ExportResult } from './transfer/export.js';
import type { PrefixLinks, StoreUsage } from './gc/usage.js';
import type { GcWhy, PrefixHold } from './gc/why.js';
import type { ImportOptions, ImportResult } from './transfer/import.js';
import type { RegisteredPathOwners } from './api/registered-owners.js';
import type { RemoteOptions } from './transfer/oci/session.js';

export * from './errors.js';
export { splitRef } from './core/ref.js';
export { compareVersions } from './core/version.js';
export { identifyManifest, serializeManifest } from './core/manifest.js';
export type {
  AddOptions,
  AddOrigin,
  AddResult,
  AddSource,
  EntryInfo,
  GcOptions,
  GcResult,
  StoreOptions,
  VerifyOptions,
  VerifyResult,
};
export type { InMemoryFile } from './ingest/from-list.js';
export type {
  EntryDir,
  EntryRecord,
  EntrySymlink,
  Manifest,
  ManifestFile,
  ProgressEvent,
  ProgressListener,
  ProgressPhase,
  TxnStep,
  IngestProgress,
  LinkProgress,
  VerifyProgress,
  ImportProgress,
  RegistryProgress,
  StepProgress,
} from './core/types.js';
export { PROGRESS_PHASES } from './core/types.js';
export { limitHeapGrowth } from './core/heap-growth.js';
export type {
  ActiveNames,
  EntryRef,
  EntryRefs,
  Prefix,
  PrefixStatus,
  GenerationInfo,
  PrefixHashResult,
  PrefixVerifyResult,
  PruneResult,
  Transaction,
  TransactionView,
} from './api/prefix.js';
export type { DiffOptions, GenerationDiff, PathOwners } from './api/prefix.js';
export type { FileChanges, PackageChanges, VersionChange } from './prefix/query.js';
export type { TxnOptions, TxnResult } from './txn/run.js';
export { askPrefixWriter, type AskWriterOptions, type WriterChange } from './api/ask-writer.js';
export { readPrefixStatus, type PrefixStatusOptions } from './api/prefix-status.js';
export { syncNoopResult, type SyncNoopOptions } from './api/sync-noop.js';
export type { PlanCounts, PlanPreview } from './txn/txn-types.js';
export type { RecoverResult } from './txn/recover.js';
export type { TransactionState } from './txn/readers.js';
export type { EntryProblems } from './store/verify.js';
export type { ManifestIdentity } from './core/manifest.js';
export type { LinkMode } from './txn/link.js';
export type { OwnershipIndexCheck } from './txn/ownership/verify.js';
export { SCHEME_KEYS, type Scheme, type SchemeKey } from './ingest/wheel/scheme.js';
export type { LayoutKind } from './core/names.js';
export { LAYOUT_KINDS } from './core/names.js';
export type { PackageRef } from './core/package-ref.js';
export { DEFAULT_MARKER_GLOBS } from './core/markers.js';
export { DEFAULT_WAIT_SECONDS } from './core/config.js';
export {
  readLockfile,
  writeLockfile,
  validateLockfile,
  serializeLockfile,
  lockedPackages,
  type Lockfile,
  type LockedPackage,
} from './transfer/lockfile.js';
export type {
  ExportOptions,
  ExportResult,
  ImportOptions,
  ImportResult,
  PrefixLinks,
  StoreUsage,
  GcWhy,
  PrefixHold,
};
export type { PushResult, PushedEntry } from './transfer/oci/push.js';
export type { PullResult, PulledEntry } from './transfer/oci/pull-result.js';
export type { RemoteOptions };
export { parseRemote, type Remote } from './transfer/oci/remote-ref.js';
export {
  defaultRemote,
  pstoreConfigFile,
  type DefaultRemote,
} from './transfer/oci/default-remote.js';
export type { RegisteredPathOwners };
export { openStore, type RemoteTransferOptions, type Store } from './api/store.js';
