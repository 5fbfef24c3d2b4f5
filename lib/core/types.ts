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
 * Every phase a ProgressEvent may name besides the transaction steps. A new phase is one more
 * string here (the union type follows): `ingest` (add hashing files), `link` (a transaction placing
 * files), `verify` (store verify rehashing objects), `push` and `pull` (entries to or from a
 * registry, with bytes).
 */
export const PROGRESS_PHASES = ['ingest', 'link', 'verify', 'push', 'pull'] as const;

/** One of PROGRESS_PHASES, or a transaction step (TxnStep, reported with `ms`). */
export type ProgressPhase = (typeof PROGRESS_PHASES)[number] | TxnStep;

/** A step of a long operation; listeners receive at most about ten a second per operation. */
export interface ProgressEvent {
  phase: ProgressPhase;
  /** units done so far in this phase (files) */
  done: number;
  /** transaction steps: how long the step took, in milliseconds */
  ms?: number;
  /** units the phase will do, when known in advance */
  total?: number;
  /** bytes done so far, where the phase counts them */
  bytes?: number;
  /** what is being worked on (a path in the entry or the prefix) */
  subject?: string;
}

/** Receives progress events; it must not throw (an AbortSignal is the way to stop an operation). */
export type ProgressListener = (event: ProgressEvent) => void;
