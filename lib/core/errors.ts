// Every failure pstore reports carries a stable EPSTORE_* code. Callers branch on `code` (and on
// the typed `data` of that code, e.g. an integrity error's `reason`), never on the message. The
// library knows codes only: turning a code into a process exit code is the CLI's business
// (cli/exit-codes.ts), and so is naming its flags.

/** Every code pstore throws, with what it means. */
export const ERROR_MEANINGS = {
  /** a bug in pstore (an invariant broke) */
  EPSTORE_INTERNAL: 'a bug in pstore',
  /** a bad argument or option, or arguments that contradict each other */
  EPSTORE_USAGE:
    'a bad argument or option: a malformed value, or arguments that contradict each other',
  /** two packages, or a package and the store, claim the same path */
  EPSTORE_CONFLICT: 'two packages, or a package and the store, claim the same path',
  /** stored data is missing or damaged; `data.reason` says which */
  EPSTORE_INTEGRITY: 'stored data is missing or damaged (data.reason says which)',
  /** another process holds the lock and the wait ran out */
  EPSTORE_BUSY: 'another process holds the lock and the wait ran out',
  /** no such entry, prefix, generation or file */
  EPSTORE_NOT_FOUND: 'no such entry, prefix, generation or file',
  /** a path that would escape its root, or a place that cannot hold pstore data */
  EPSTORE_UNSAFE_PATH: 'a path that would escape its root, or a place that cannot hold pstore data',
  /** an archive or bundle that cannot be read */
  EPSTORE_BAD_ARCHIVE: 'an archive or bundle that cannot be read',
  /** a file type pstore does not store (device, socket, fifo) */
  EPSTORE_UNSUPPORTED_TYPE: 'a file type pstore does not store (device, socket, fifo)',
  /** input that is well-formed but not acceptable (a lockfile, a manifest field) */
  EPSTORE_INVALID: 'input that is well-formed but not acceptable (a lockfile, a manifest field)',
  /** the caller's AbortSignal fired; what was under way was rolled back */
  EPSTORE_ABORTED: "the caller's AbortSignal fired; what was under way was rolled back",
  /** a ref that names several entries (a bare NAME with several versions, a short id prefix) */
  EPSTORE_AMBIGUOUS:
    'a ref that names several entries (a bare NAME with several versions, a short id prefix)',
  /** a remote registry is unreachable, refuses the credentials, breaks the protocol or fails */
  EPSTORE_REMOTE:
    'a remote registry is unreachable, refuses the credentials, breaks the protocol or fails',
  /** the filesystem is full (ENOSPC) or a quota is exhausted (EDQUOT) */
  EPSTORE_NO_SPACE: 'the filesystem is full or a quota is exhausted',
  /** the environment refuses a write: EACCES, EPERM, EROFS */
  EPSTORE_PERMISSION: 'the environment refuses: permission denied, read-only filesystem',
  /** the storage device failed (EIO), or a filesystem flush failed */
  EPSTORE_IO: 'the storage device failed (EIO), or a filesystem flush failed',
} as const;

/** A stable error code: a key of {@link ERROR_MEANINGS}. */
export type ErrorCode = keyof typeof ERROR_MEANINGS;

/** Why stored data is unusable: absent altogether, or present with the wrong bytes or shape. */
export type IntegrityReason = 'missing' | 'corrupt';

/** The system error (`errno`) the environment refused with. */
export interface EnvironmentData {
  /** the Node system error code, e.g. `ENOSPC`, `EACCES`, `EIO` */
  errno: string;
}

/**
 * What each code carries in `PstoreError.data`, beyond message and subject. Every field is optional
 * unless the code always sets it, so a caller can read it after narrowing with `isPstoreError(err, code)`.
 */
export interface ErrorDataMap {
  /** no data */
  EPSTORE_INTERNAL: undefined;
  /** `option`: the library option (the CLI flag without `--`) whose value was refused */
  EPSTORE_USAGE: {
    /** the option whose value was refused */
    option?: string;
    /** the store directory (e.g. one on another filesystem than the prefix) */
    store?: string;
  };
  /** `path` (relative to the prefix) claimed by `owners` (package names), or lying inside `store` */
  EPSTORE_CONFLICT: {
    /** the contested path, relative to the prefix */
    path?: string;
    /** the package names claiming `path` */
    owners?: Array<string | undefined>;
    /** the store directory a prefix path lies inside */
    store?: string;
    /** a dry run's answer: every conflict the real run would meet (it stops at the first) */
    conflicts?: Array<Record<string, unknown>>;
  };
  /** always carries `reason`; the other fields name the damaged thing */
  EPSTORE_INTEGRITY: {
    /** absent altogether (`missing`) or with the wrong bytes or shape (`corrupt`) */
    reason: IntegrityReason;
    /** the prefix generation whose record or tree is damaged */
    generation?: number;
    /** the generation tree directory, absolute */
    tree?: string;
    /** the store object key that is missing or damaged */
    object?: string;
    /** the path (in an entry's manifest) the damaged object is shipped as */
    path?: string;
    /** the entry whose manifest or object is damaged */
    entry?: {
      /** the package name */
      name: string;
      /** the package version */
      version: string;
      /** the entry id */
      id: string;
    };
    /** one line per problem found */
    issues?: string[];
  };
  /** no data */
  EPSTORE_BUSY: undefined;
  /**
   * `active`: the versions of that name active in the prefix; `missing`: refs absent from the store
   * (or from `remote`); `candidates`: the entries a name does have; `generations`: those that exist
   */
  EPSTORE_NOT_FOUND: {
    /** the versions of the name that are active in the prefix */
    active?: Array<{
      /** the package name */
      name: string;
      /** the package version */
      version: string;
      /** the entry id */
      id: string;
    }>;
    /** the refs absent from the store (or from `remote`) */
    missing?: string[];
    /** the remote (`oci://HOST[:PORT]/REPOSITORY`) that lacks `missing` */
    remote?: string;
    /** the entries the store does have for that name */
    candidates?: Array<{
      /** the package name */
      name: string;
      /** the package version */
      version: string;
      /** the entry id */
      id: string;
    }>;
    /** the generation numbers that do exist */
    generations?: number[];
  };
  /** `bytes`: the path length needed; `prefix`/`other`: two nested roots; `filesystem`: e.g. proc */
  EPSTORE_UNSAFE_PATH: {
    /** the refused path */
    path?: string;
    /** the path length needed, in bytes */
    bytes?: number;
    /** one of two nested roots */
    prefix?: string;
    /** the other of two nested roots */
    other?: string;
    /** the filesystem type that cannot hold pstore data, e.g. `proc` */
    filesystem?: string;
  };
  /** no data */
  EPSTORE_BAD_ARCHIVE: undefined;
  /** no data */
  EPSTORE_UNSUPPORTED_TYPE: undefined;
  /** `tags`: a wheel's compatibility tags none of which the target interpreter accepts */
  EPSTORE_INVALID: {
    /** the wheel's compatibility tags, e.g. `cp312-cp312-manylinux_2_17_x86_64` */
    tags?: string[];
  };
  /** no data */
  EPSTORE_ABORTED: undefined;
  /** the system error that filled the disk or quota */
  EPSTORE_NO_SPACE: EnvironmentData;
  /** the system error of the refused write */
  EPSTORE_PERMISSION: EnvironmentData;
  /** the system error of the failing device */
  EPSTORE_IO: EnvironmentData;
}

/** The data of code `C` (a code added without an entry in the map carries a plain record). */
export type ErrorData<C extends ErrorCode = ErrorCode> = C extends keyof ErrorDataMap
  ? ErrorDataMap[C]
  : Record<string, unknown>;

/** What a {@link PstoreError} carries beyond its code and message. */
export interface ErrorDetails<C extends ErrorCode = ErrorCode> {
  /** The offending thing: archive member, source file, path in a prefix, ref, option... */
  subject?: string;
  /** What to do about it, in the user's words (a command to run, an option to add). */
  hint?: string;
  /** The underlying error (becomes `Error.cause`). */
  cause?: unknown;
  /** Structured detail, typed per code: see {@link ErrorDataMap}. */
  data?: ErrorData<C>;
}

/**
 * The one error type the library throws for expected failures. Branch on `code` (and the `data` of
 * that code, narrowed by {@link isPstoreError}); the message is for humans and may change.
 */
export class PstoreError<C extends ErrorCode = ErrorCode> extends Error {
  /** The stable EPSTORE_* code: see {@link ERROR_MEANINGS}. */
  readonly code: C;
  /** The offending thing (archive member, path, ref, option...), if there is one. */
  readonly subject: string | undefined;
  /** What to do about it, if pstore knows. */
  readonly hint: string | undefined;
  /** Structured detail, typed per code: see {@link ErrorDataMap}. */
  readonly data: ErrorData<C> | undefined;

  /**
   * @param code - the stable EPSTORE_* code
   * @param message - a human-readable sentence
   * @param details - subject, hint, cause and data; all optional
   */

  constructor(code: C, message: string, details: ErrorDetails<C> = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'PstoreError';
    this.code = code;
    this.subject = details.subject;
    this.hint = details.hint;
    this.data = details.data;
  }

  /** `{ code, message, subject?, hint?, data? }`: what `--json` prints for an error. */
  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.subject === undefined ? {} : { subject: this.subject }),
      ...(this.hint === undefined ? {} : { hint: this.hint }),
      ...(this.data === undefined ? {} : { data: this.data }),
    };
  }
}

/**
 * Whether `err` is a PstoreError (of `code`, if given); narrows `data` to that code's type. One made
 * by another copy of this module in the same process (a bundle beside the library: the CLI's
 * `status` file and the recovery it imports, SPEC.md §Start-up cost) is one too, known by its
 * name and code.
 */
export function isPstoreError<C extends ErrorCode = ErrorCode>(
  err: unknown,
  code?: C,
): err is PstoreError<C> {
  const other =
    err instanceof Error && err.name === 'PstoreError' ? (err as { code?: unknown }) : {};
  const ours =
    err instanceof PstoreError || (typeof other.code === 'string' && other.code in ERROR_MEANINGS);
  return ours && (code === undefined || (err as PstoreError).code === code);
}

/** Node system errors carry `code` strings such as ENOENT; this narrows them without `any`. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

const ENVIRONMENT: Record<
  string,
  { code: 'EPSTORE_NO_SPACE' | 'EPSTORE_PERMISSION' | 'EPSTORE_IO'; what: string }
> = {
  ENOSPC: { code: 'EPSTORE_NO_SPACE', what: 'no space left on the filesystem' },
  EDQUOT: { code: 'EPSTORE_NO_SPACE', what: 'disk quota exceeded' },
  EACCES: { code: 'EPSTORE_PERMISSION', what: 'permission denied' },
  EPERM: { code: 'EPSTORE_PERMISSION', what: 'operation not permitted' },
  EROFS: { code: 'EPSTORE_PERMISSION', what: 'the filesystem is read-only' },
  EIO: { code: 'EPSTORE_IO', what: 'input/output error' },
};

/**
 * Whether `err` is a refusal by permission or a read-only filesystem: the errnos the boundary maps
 * to EPSTORE_PERMISSION.
 */
export function isDenied(err: unknown): boolean {
  return ENVIRONMENT[errnoCode(err) ?? '']?.code === 'EPSTORE_PERMISSION';
}

/**
 * A system error by which the environment refuses (full disk, permissions, read-only mount, a
 * failing device) becomes its documented code naming the path; anything else is returned as is.
 * (A path of the wrong kind the user gave is refused where it is first used: prefix/open.ts,
 * store/context.ts, the CLI's -o; an ENOTDIR met anywhere else may be pstore's own bug.)
 * Applied once at the library's boundary (api/boundary.ts), so no module needs to remember it.
 */
export function environmentError(err: unknown): unknown {
  if (isPstoreError(err)) return err;
  const code = errnoCode(err);
  const env = code === undefined ? undefined : ENVIRONMENT[code];
  if (code === undefined || env === undefined) return err;
  // A copy that fills its destination's disk names the source as its path: the full one is dest.
  const { path: file, dest } = err as { path?: unknown; dest?: unknown };
  const named = env.code === 'EPSTORE_NO_SPACE' && typeof dest === 'string' ? dest : file;
  const subject = typeof named === 'string' ? named : undefined;
  const message = subject === undefined ? env.what : `${subject}: ${env.what}`;
  return new PstoreError(env.code, message, {
    ...(subject === undefined ? {} : { subject }),
    cause: err,
    data: { errno: code },
  });
}
