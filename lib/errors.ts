// The error vocabulary alone, for callers that must start fast (the CLI's entry, before it knows
// which command runs): importing it loads nothing else of the library. lib/index.ts re-exports it.

export {
  PstoreError,
  isPstoreError,
  environmentError,
  ERROR_CODES,
  type ErrorCode,
} from './core/errors.js';
