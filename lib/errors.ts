// The error vocabulary alone, for callers that must start fast (the CLI's entry, before it knows
// which command runs): importing it loads nothing else of the library. lib/index.ts re-exports it.

export {
  PstoreError,
  isPstoreError,
  environmentError,
  ERROR_MEANINGS,
  type ErrorCode,
  type ErrorData,
  type ErrorDataMap,
  type ErrorDetails,
  type IntegrityReason,
  type EnvironmentData,
} from './core/errors.js';
