// The keys of a Python install scheme, apart from layout.ts (and the zip reader it needs), so that
// the public API can name them without every command loading zlib.

/** The keys of a Python install scheme, as a wheel's `.data` directories name them. */
export const SCHEME_KEYS = ['purelib', 'platlib', 'scripts', 'headers', 'data'] as const;
/** One of {@link SCHEME_KEYS}. */
export type SchemeKey = (typeof SCHEME_KEYS)[number];
/** Each scheme key's directory, relative to the prefix. */
export type Scheme = Record<SchemeKey, string>;
