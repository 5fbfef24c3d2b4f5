// Waiting on independent work side by side without losing track of any of it (SPEC.md
// §Dependencies and cost model, a new prefix's fixed cost).

/**
 * Every promise's value once all have settled; if any failed, the first failure in argument order
 * (not the first in time, so the error does not depend on which wait ended first). Unlike
 * Promise.all, nothing is left running when this throws: a caller that undoes work after a
 * failure (a new prefix removed again) never races a write still under way.
 */
export async function allSettledInOrder<T extends readonly unknown[]>(
  promises: readonly [...{ [K in keyof T]: Promise<T[K]> }],
): Promise<T> {
  const results = await Promise.allSettled(promises);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
