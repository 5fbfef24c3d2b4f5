// The two lengths of the suite. `npm test` runs a quick representative case of every crash, soak,
// concurrency and full-disk test; PSTORE_TORTURE=1 runs every variant (a kill at every step, many
// random kills, more polls and writers). See README § Tests.

export const TORTURE = process.env.PSTORE_TORTURE === '1';

/**
 * Every case in torture mode; in the default run only `quick`, which must be cases of `all` (so a
 * typo cannot silently drop a case from both modes).
 */
export function casesFor<T>(all: readonly T[], quick: readonly T[]): readonly T[] {
  const unknown = quick.filter((q) => !all.includes(q));
  if (unknown.length) throw new Error(`quick cases not among all cases: ${String(unknown)}`);
  return TORTURE ? all : quick;
}

/** `quick` in the default run, `torture` with PSTORE_TORTURE=1. */
export function sizeFor<T>(quick: T, torture: T): T {
  return TORTURE ? torture : quick;
}
