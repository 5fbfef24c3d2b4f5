// Every failure pstore reports carries a stable EPSTORE_* code. Callers branch on `code`, never on
// the message. The table below is mirrored in SPEC.md §Errors; only the CLI turns codes into exit
// codes, but the mapping lives here so that library users and the CLI agree.

export const ERROR_CODES = {
  EPSTORE_INTERNAL: 1,
  EPSTORE_USAGE: 2,
  EPSTORE_CONFLICT: 3,
  EPSTORE_INTEGRITY: 4,
  EPSTORE_BUSY: 5,
  EPSTORE_NOT_FOUND: 6,
  EPSTORE_UNSAFE_PATH: 7,
  EPSTORE_BAD_ARCHIVE: 7,
  EPSTORE_UNSUPPORTED_TYPE: 7,
  EPSTORE_INVALID: 7,
  /** a ref that names several entries (a bare NAME with several versions, a short id prefix) */
  EPSTORE_AMBIGUOUS: 7,
  /** a remote registry is unreachable, refuses the credentials, breaks the protocol or fails */
  EPSTORE_REMOTE: 8,
  /** the filesystem is full (ENOSPC) or a quota is exhausted (EDQUOT) */
  EPSTORE_NO_SPACE: 9,
  /** the environment refuses a write: EACCES, EPERM, EROFS */
  EPSTORE_PERMISSION: 9,
  /** the storage device failed (EIO), or a filesystem flush failed */
  EPSTORE_IO: 9,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorDetails {
  /** The offending thing: archive member, source file, path in a prefix, ref, flag... */
  subject?: string;
  hint?: string;
  cause?: unknown;
  data?: Record<string, unknown>;
}

export class PstoreError extends Error {
  readonly code: ErrorCode;
  readonly subject: string | undefined;
  readonly hint: string | undefined;
  readonly data: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'PstoreError';
    this.code = code;
    this.subject = details.subject;
    this.hint = details.hint;
    this.data = details.data;
  }

  get exitCode(): number {
    return ERROR_CODES[this.code];
  }

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

export function isPstoreError(err: unknown, code?: ErrorCode): err is PstoreError {
  return err instanceof PstoreError && (code === undefined || err.code === code);
}

/** Node system errors carry `code` strings such as ENOENT; this narrows them without `any`. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

const ENVIRONMENT: Record<string, { code: ErrorCode; what: string }> = {
  ENOSPC: { code: 'EPSTORE_NO_SPACE', what: 'no space left on the filesystem' },
  EDQUOT: { code: 'EPSTORE_NO_SPACE', what: 'disk quota exceeded' },
  EACCES: { code: 'EPSTORE_PERMISSION', what: 'permission denied' },
  EPERM: { code: 'EPSTORE_PERMISSION', what: 'operation not permitted' },
  EROFS: { code: 'EPSTORE_PERMISSION', what: 'the filesystem is read-only' },
  EIO: { code: 'EPSTORE_IO', what: 'input/output error' },
};

/**
 * A system error by which the environment refuses (full disk, permissions, read-only mount, a
 * failing device) becomes its documented code naming the path; anything else is returned as is.
 * Applied once at the library's boundary (api/boundary.ts), so no module needs to remember it.
 */
export function environmentError(err: unknown): unknown {
  if (err instanceof PstoreError) return err;
  const code = errnoCode(err);
  const env = code === undefined ? undefined : ENVIRONMENT[code];
  if (env === undefined) return err;
  const file = (err as { path?: unknown }).path;
  const subject = typeof file === 'string' ? file : undefined;
  const message = subject === undefined ? env.what : `${subject}: ${env.what}`;
  return new PstoreError(env.code, message, {
    ...(subject === undefined ? {} : { subject }),
    cause: err,
    data: { errno: code },
  });
}

/** Wrap anything that is not already a PstoreError as an internal error, keeping the cause. */
export function toPstoreError(err: unknown): PstoreError {
  if (err instanceof PstoreError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new PstoreError('EPSTORE_INTERNAL', message, { cause: err });
}
