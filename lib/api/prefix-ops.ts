// A prefix handle's refs and names as the operations a transaction applies, in order.

import type { ActiveNames, EntryRefs } from './prefix-handle.js';
import type { Op } from './prefix-targets.js';

/** Refs as strings: an entry object is named by its full id. */
export function refStrings(refs: readonly EntryRefs[]): string[] {
  return refs.flat().map((r) => (typeof r === 'string' ? r : r.id));
}

export function activations(refs: readonly EntryRefs[]): Op[] {
  return refStrings(refs).map((ref) => ({ kind: 'activate', ref }));
}

export function deactivations(names: readonly ActiveNames[]): Op[] {
  return names.flat().map((name) => ({ kind: 'deactivate', name }));
}
