// How a thrown value becomes what the CLI reports: a PstoreError (environment refusals mapped to
// their codes, anything else an internal error), with the library's option names said as flags
// and the flag that helps added as a hint (the library cannot name flags: it has none).

import { PstoreError, environmentError, isPstoreError, type ErrorCode } from '../lib/errors.js';

/** What to try on the command line, for codes whose remedy is a flag. */
const FLAG_HINTS: Partial<Record<ErrorCode, string>> = {
  EPSTORE_BUSY: 'see --wait',
};

/** The same error, its subject or hint said the command line's way. */
function restated(err: PstoreError, change: { subject?: string; hint?: string }): PstoreError {
  const subject = change.subject ?? err.subject;
  const hint = err.hint ?? change.hint;
  return new PstoreError(err.code, err.message, {
    ...(subject === undefined ? {} : { subject }),
    ...(hint === undefined ? {} : { hint }),
    cause: err,
    ...(err.data === undefined ? {} : { data: err.data }),
  });
}

/** A refused library option (`data.option`) is, on the command line, the flag `--option`. */
function forCommandLine(err: PstoreError): PstoreError {
  const option = isPstoreError(err, 'EPSTORE_USAGE') ? err.data?.option : undefined;
  if (option !== undefined)
    return restated(err, { subject: `--${option}`, hint: `check --${option}` });
  const hint = FLAG_HINTS[err.code];
  return hint === undefined ? err : restated(err, { hint });
}

export function asCliError(err: unknown): PstoreError {
  const mapped = environmentError(err);
  if (isPstoreError(mapped)) return forCommandLine(mapped);
  const message = err instanceof Error ? err.message : String(err);
  return new PstoreError('EPSTORE_INTERNAL', message, { cause: err });
}
