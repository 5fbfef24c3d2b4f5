// Refs (SPEC.md §Refs): a user's name for an entry, NAME@VERSION, NAME, or an entry id prefix.
// Resolving one against the index is store/index-entries.ts's; this is only the grammar.

/** Split NAME@VERSION at the first `@` after the name's first character (names may start with @). */
export function splitRef(ref: string): { name: string; version?: string } {
  const at = ref.indexOf('@', 1);
  return at === -1 ? { name: ref } : { name: ref.slice(0, at), version: ref.slice(at + 1) };
}
