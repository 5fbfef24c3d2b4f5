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

/** Wrap anything that is not already a PstoreError as an internal error, keeping the cause. */
export function toPstoreError(err: unknown): PstoreError {
  if (err instanceof PstoreError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new PstoreError('EPSTORE_INTERNAL', message, { cause: err });
}
