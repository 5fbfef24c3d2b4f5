// Refs (SPEC.md §Refs): a user's name for an entry, NAME@VERSION, NAME, or an entry id prefix.
// Resolving one against the index is store/index-entries.ts's; this is only the grammar.

/** Split NAME@VERSION at the first `@` after the name's first character (names may start with @). */
export function splitRef(ref: string): {
  /** the part before the `@` (the whole ref when there is none) */
  name: string;
  /** the part after the `@`; absent for a bare NAME */
  version?: string;
} {
  const at = ref.indexOf('@', 1);
  return at === -1 ? { name: ref } : { name: ref.slice(0, at), version: ref.slice(at + 1) };
}
