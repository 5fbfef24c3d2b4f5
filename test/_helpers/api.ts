// Small helpers for tests of the library in-process (test/api/).

/** Catch the error a promise rejects with (throws if it resolves, failing the test). */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection, but it resolved');
}

/** NAME@VERSION of each, sorted: a package set compared as text. */
export const entryNames = (xs: ReadonlyArray<{ name: string; version: string }>): string[] =>
  xs.map((p) => `${p.name}@${p.version}`).sort();
