// A package as a generation, a journal, a plan and a lockfile name it: NAME, VERSION and entry id
// (SPEC.md §Prefix state). The schema is checked wherever such a list is read from disk.

import * as v from 'valibot';

/** An entry id is 40 lowercase hex digits; it names files in the store, so nothing else passes. */
export const PackageRefSchema = v.object({
  name: v.pipe(v.string(), v.minLength(1)),
  version: v.pipe(v.string(), v.minLength(1)),
  id: v.pipe(v.string(), v.regex(/^[0-9a-f]{40}$/)),
});
export const PackageListSchema = v.array(PackageRefSchema);

/** A package as a prefix holds it: the entry `id` (40 hex digits) and its NAME@VERSION. */
export interface PackageRef {
  /** the package name */
  name: string;
  /** the package version */
  version: string;
  /** the entry id, 40 lowercase hex digits */
  id: string;
}

// The schema and the interface describe one shape: this fails to compile if they drift apart.
const _sameShape: [PackageRef, v.InferOutput<typeof PackageRefSchema>] extends [
  v.InferOutput<typeof PackageRefSchema>,
  PackageRef,
]
  ? true
  : never = true;

export function sortPackages(pkgs: readonly PackageRef[]): PackageRef[] {
  return [...pkgs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
