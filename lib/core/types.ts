// Shapes shared across layers. On-disk formats are owned by the module named beside each type.

/** A directory of an entry, as a manifest records it and as an in-memory file list gives it. */
export interface EntryDir {
  /** relative path inside the entry, `/`-separated */
  path: string;
  /** a directory */
  type: 'dir';
}

/** A symbolic link of an entry, as a manifest records it and as an in-memory file list gives it. */
export interface EntrySymlink {
  /** relative path inside the entry, `/`-separated */
  path: string;
  /** a symbolic link */
  type: 'symlink';
  /** the link's target, exactly as stored */
  target: string;
}

/** One path of an entry (core/manifest.ts, SPEC.md §Manifest). */
export type ManifestFile =
  | {
      /** relative path inside the entry, `/`-separated */
      path: string;
      /** a regular file */
      type: 'file';
      /** whether the file is executable */
      exec: boolean;
      /** its length in bytes */
      size: number;
      /** ssri integrity of its content (`sha512-BASE64`) */
      integrity: string;
    }
  | EntryDir
  | EntrySymlink;

/** A package's canonical manifest: its identity is the hash of exactly these bytes. */
export interface Manifest {
  /** the manifest format; always 1 */
  formatVersion: 1;
  /** the package name */
  name: string;
  /** the package version (compared with {@link compareVersions}) */
  version: string;
  /** the metadata marker paths, sorted: placed last on activation, removed first on deactivation */
  markers: string[];
  /** every path of the entry, sorted by UTF-8 bytes */
  files: ManifestFile[];
}

/** What the index records for an entry (store/index-entries.ts). */
export interface EntryRecord {
  /** the entry id: the first 40 hex digits of the sha512 of its canonical manifest */
  id: string;
  /** the package name */
  name: string;
  /** the package version */
  version: string;
  /** ssri integrity (`sha512-BASE64`) of the canonical manifest bytes */
  integrity: string;
  /** number of regular files */
  files: number;
  /** number of directories */
  dirs: number;
  /** number of symbolic links */
  symlinks: number;
  /** total size of the regular files, in bytes */
  bytes: number;
  /** the metadata marker paths (see {@link Manifest.markers}) */
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
  /** what is under way: one of {@link PROGRESS_PHASES} or a transaction step ({@link TxnStep}) */
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
