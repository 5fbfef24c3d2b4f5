// Shapes shared across layers. On-disk formats are owned by the module named beside each type.

/** One path of an entry (core/manifest.ts, SPEC.md §Manifest). */
export type ManifestFile =
  | { path: string; type: 'file'; exec: boolean; size: number; integrity: string }
  | { path: string; type: 'dir' }
  | { path: string; type: 'symlink'; target: string };

/** A package's canonical manifest: its identity is the hash of exactly these bytes. */
export interface Manifest {
  formatVersion: 1;
  name: string;
  version: string;
  markers: string[];
  files: ManifestFile[];
}

/** What the index records for an entry (store/index-entries.ts). */
export interface EntryRecord {
  id: string;
  name: string;
  version: string;
  integrity: string;
  files: number;
  dirs: number;
  symlinks: number;
  bytes: number;
  markers: string[];
  /** when this content was first added */
  addedAt: string;
  /** when it was last added (gc keeps entries added within the grace period) */
  lastAddedAt: string;
  /** store-wide sequence number of the latest add of this content; orders "latest added" */
  seq: number;
}

/** The steps of a transaction, each reported once done with its duration (`ms`). */
export type TxnStep =
  | 'lock'
  | 'recover'
  | 'plan'
  | 'check'
  | 'journal'
  | 'apply:remove-markers'
  | 'apply:place-files'
  | 'apply:remove-files'
  | 'apply:place-markers'
  | 'apply'
  | 'commit'
  | 'unlock';

/**
 * What a progress event counts: ingesting a source, rehashing objects, linking files, uploading or
 * downloading entries (with bytes), or a transaction step.
 */
export type ProgressPhase = 'ingest' | 'verify' | 'link' | 'push' | 'pull' | TxnStep;

export interface ProgressEvent {
  phase: ProgressPhase;
  done: number;
  /** transaction steps: how long the step took, in milliseconds */
  ms?: number;
  total?: number;
  bytes?: number;
  subject?: string;
}

export type ProgressListener = (event: ProgressEvent) => void;
