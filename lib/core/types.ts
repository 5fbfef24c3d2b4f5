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
 * string here and one more member of {@link ProgressEvent}: `ingest` (add hashing files), `link`
 * (a transaction placing files), `verify` (store verify rehashing objects), `import` (a bundle
 * being read and checked), `push` and `pull` (entries to or from a registry, with bytes).
 */
export const PROGRESS_PHASES = ['ingest', 'link', 'verify', 'import', 'push', 'pull'] as const;

/** One of PROGRESS_PHASES, or a transaction step (TxnStep, reported with `ms`). */
export type ProgressPhase = (typeof PROGRESS_PHASES)[number] | TxnStep;

/** The fields every progress event has; each phase's member below says what its units are. */
interface ProgressCommon {
  /** units done so far in this phase (see `unit`); 0 on the event that announces the phase */
  done: number;
  /** units the phase will do, when known in advance (a percentage is `done / total`) */
  total?: number;
  /** what `done` and `total` count */
  unit: 'files' | 'members' | 'entries' | 'steps';
  /** bytes read so far, where the phase counts them (see each phase for which bytes) */
  bytes?: number;
  /**
   * bytes the phase will read, when known in advance; where present, `bytes / totalBytes` is the
   * better measure of how far the phase has come than `done / total`
   */
  totalBytes?: number;
  /** what is being worked on: a path in the entry or the prefix, a bundle member, a ref */
  subject?: string;
  /** only on a finished transaction step ({@link StepProgress}): its time in milliseconds */
  ms?: number;
}

/**
 * `add` hashing and writing files. `done` counts regular files. From a directory, `total` and
 * `totalBytes` (sum of the file sizes) are known once it has been walked and `bytes` counts file
 * content; from a tar, `bytes` counts the archive's bytes read (compressed, for a .tar.gz) and
 * `totalBytes` is the archive's size when it is a file; `total` is never known for a tar.
 */
export interface IngestProgress extends ProgressCommon {
  /** `add` hashing and writing a source's files */
  phase: 'ingest';
  unit: 'files';
  /** bytes read so far: file content (directory) or archive bytes (tar) */
  bytes: number;
}

/** A transaction placing files into the prefix: `done` and `total` in files (every 500 files). */
export interface LinkProgress extends ProgressCommon {
  /** a transaction placing files into the prefix */
  phase: 'link';
  unit: 'files';
  total: number;
}

/**
 * `verify` rehashing the store: `done`/`total` count the regular files of every entry (an object
 * shared by several entries is hashed once, counted once per file); `subject` is the file's path.
 */
export interface VerifyProgress extends ProgressCommon {
  /** `verify` rehashing the store's objects */
  phase: 'verify';
  unit: 'files';
  total: number;
}

/**
 * `import` reading a bundle: `done` counts its members (descriptor, manifests, objects), `bytes`
 * the bundle's bytes read; `totalBytes` is the bundle's size when it is a file (or stdin redirected
 * from one); `subject` is the member's name.
 */
export interface ImportProgress extends ProgressCommon {
  /** `import` reading and checking a bundle */
  phase: 'import';
  unit: 'members';
  /** the bundle's bytes read so far */
  bytes: number;
}

/** `push`/`pull`: `done`/`total` in entries, `bytes` the blob bytes sent or received. */
export interface RegistryProgress extends ProgressCommon {
  /** entries sent to (`push`) or received from (`pull`) a registry */
  phase: 'push' | 'pull';
  unit: 'entries';
  total: number;
  bytes: number;
}

/**
 * A transaction step ({@link TxnStep}), reported once done with `ms` (`done` 1); `plan` is also
 * announced as it begins, with `done` 0 and no `ms`, since reading manifests may take a while.
 */
export interface StepProgress extends ProgressCommon {
  /** the step of the transaction */
  phase: TxnStep;
  unit: 'steps';
  /** how long the step took, in milliseconds; absent on the announcement of a step */
  ms?: number;
}

/**
 * A step of a long operation, one member per kind of phase (narrow on `phase`); listeners receive
 * at most about ten a second per operation.
 */
export type ProgressEvent =
  IngestProgress | LinkProgress | VerifyProgress | ImportProgress | RegistryProgress | StepProgress;

/** Receives progress events; it must not throw (an AbortSignal is the way to stop an operation). */
export type ProgressListener = (event: ProgressEvent) => void;
