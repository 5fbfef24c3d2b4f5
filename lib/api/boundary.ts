// The library's boundary: every method of a Store, Prefix or Transaction handed to a caller runs
// through `guarded`, which turns a system error by which the environment refuses (ENOSPC, EACCES,
// EROFS, EIO...) into its documented PstoreError. Modules below keep throwing raw errors, and
// branch on errno where they must; callers above see only typed codes.

import { environmentError } from '../core/errors.js';

type Fn = (...args: unknown[]) => unknown;

export function guarded<T extends object>(target: T): T {
  const out = {} as Record<string, unknown>;
  for (const [key, value] of Object.entries(target)) {
    out[key] = typeof value === 'function' ? guardFn(value as Fn, target, out) : value;
  }
  return out as T;
}

function guardFn(fn: Fn, self: object, proxy: object): Fn {
  return (...args: unknown[]) => {
    let result: unknown;
    try {
      result = fn.apply(self, args);
    } catch (err) {
      throw environmentError(err);
    }
    // Chaining methods (transaction().activate(...)) return their object: hand back the guarded one.
    if (result === self) return proxy;
    if (result instanceof Promise)
      return result.catch((err: unknown) => {
        throw environmentError(err);
      });
    return result;
  };
}
