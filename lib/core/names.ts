// The names pstore reserves (SPEC.md §Prefix layout, §Ingest). Every name pstore puts inside a
// prefix, and every temporary or trash name it makes anywhere, begins with `.pstore`; packages may
// not use such names, so no reader mistakes pstore's state for a package file or a marker.

/** Names pstore keeps in prefixes (state, temp and trash names) begin with this; packages may not. */
export const RESERVED_PREFIX = '.pstore';

/** Temporary, trash and per-prefix state names: `.pstore-tmp-…`, `.pstore-trash-…`, `.pstore-BASE`. */
export const TEMP_PREFIX = `${RESERVED_PREFIX}-`;

/**
 * A waiting writer's token file in a prefix's state directory (txn/group-ask.ts): the one temp name
 * made there without the writer lock, by a process that does not hold it.
 */
export const GROUP_TOKEN_PREFIX = `${TEMP_PREFIX}tmp-group-`;

/** The two ways a prefix is managed (SPEC.md §Prefix layout). */
export const LAYOUT_KINDS = ['inplace', 'generations'] as const;
/**
 * How a prefix is managed: `inplace` (files placed in the directory itself) or `generations` (the
 * directory is a symlink to the current generation's tree).
 */
export type LayoutKind = (typeof LAYOUT_KINDS)[number];
