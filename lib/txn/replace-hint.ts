// A path shipped by two packages, one of which is active and staying: the user most likely swaps
// one package for another that ships the same paths, which `activate --replace OWNER` does in one
// transaction. The conflict keeps its code, subject and data; only the hint is added.

import { PstoreError } from '../core/errors.js';
import type { PackageRef } from '../core/package-ref.js';
import type { ConflictSink } from './plan.js';

export function hintReplace(
  current: readonly PackageRef[],
  target: readonly PackageRef[],
  next: ConflictSink,
): ConflictSink {
  const staying = new Set(
    current.filter((c) => target.some((t) => t.id === c.id)).map((c) => c.name),
  );
  return (err) => {
    const owners = (err.data as { owners?: unknown } | undefined)?.owners;
    const active = Array.isArray(owners)
      ? owners.filter((o): o is string => typeof o === 'string' && staying.has(o))
      : [];
    if (active.length === 0 || err.hint !== undefined) return next(err);
    next(
      new PstoreError(err.code, err.message, {
        ...(err.subject === undefined ? {} : { subject: err.subject }),
        ...(err.data === undefined ? {} : { data: err.data }),
        hint: `${active[0]} is active; to swap it out in the same transaction: activate … --replace ${active[0]}`,
      }),
    );
  };
}
