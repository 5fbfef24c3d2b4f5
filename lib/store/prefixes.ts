// Registered prefixes (SPEC.md §Registrations): gc reads every registered prefix's generations and
// journal as roots. One small file per prefix under prefixes-v1/, named by the hash of the
// prefix's state directory, written atomically before the prefix's first journal. Kept as files,
// not in the index, so that the index stays a cache that can be rebuilt from the store's files.

import { statOrUndefined } from '../fs/exists.js';
// sha256 in JavaScript, not node:crypto: a sync with nothing to do names one registration, and
// loading node:crypto for it cost ~2-5 ms of its ~45 (SPEC.md §Dependencies and cost model).
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../fs/atomic.js';
import { LAYOUT_KINDS, type LayoutKind } from '../core/names.js';
import * as v from 'valibot';
import { readJsonAs } from '../fs/json-file.js';
import type { StoreLayout } from './layout.js';
import { readdirOrEmpty } from '../fs/dir.js';
import { refuseNonDirectory } from './root-check.js';
import { errnoCode } from '../core/errors.js';

export interface PrefixRegistration {
  dir: string;
  meta: string;
  layout: LayoutKind;
  /** when gc first found the prefix's state missing (ISO time, filesystem clock); see gc/roots.ts */
  missingSince?: string;
}

// Checked when read (SPEC.md §Registrations): a registration of the wrong shape is
// EPSTORE_INTEGRITY.
const RegistrationSchema: v.GenericSchema<unknown, PrefixRegistration> = v.object({
  dir: v.pipe(v.string(), v.minLength(1)),
  meta: v.pipe(v.string(), v.minLength(1)),
  layout: v.picklist(LAYOUT_KINDS),
  missingSince: v.optional(v.string()),
});

function registrationFile(layout: StoreLayout, meta: string): string {
  return path.join(layout.prefixes, `${bytesToHex(sha256(meta)).slice(0, 32)}.json`);
}

export async function registerPrefix(layout: StoreLayout, reg: PrefixRegistration): Promise<void> {
  if (isRegistered(layout, reg.meta)) return;
  await refuseNonDirectory(layout); // a transaction's first write to the store
  await fsp.mkdir(layout.prefixes, { recursive: true });
  await writeFileAtomic(registrationFile(layout, reg.meta), `${JSON.stringify(reg)}\n`);
}

/**
 * Whether the prefix whose state directory is `meta` has a registration in this store: one stat,
 * synchronous, so that a sync with nothing to do makes no promise-based fs call (sync-noop.ts).
 */
export function isRegistered(layout: StoreLayout, meta: string): boolean {
  return statOrUndefined(registrationFile(layout, meta)) !== undefined;
}

export async function listPrefixes(layout: StoreLayout): Promise<PrefixRegistration[]> {
  const out: PrefixRegistration[] = [];
  for (const name of await readdirOrEmpty(layout.prefixes)) {
    if (!name.endsWith('.json') || name.startsWith('.')) continue;
    // A registration that cannot be read throws (EPSTORE_INTEGRITY): gc must not lose its roots.
    const reg = await readJsonAs(path.join(layout.prefixes, name), RegistrationSchema);
    if (reg) out.push(reg);
  }
  return out;
}

/** Rewrite an existing registration (gc records or clears `missingSince`). */
export async function updatePrefix(layout: StoreLayout, reg: PrefixRegistration): Promise<void> {
  await writeFileAtomic(registrationFile(layout, reg.meta), `${JSON.stringify(reg)}\n`);
}

export async function unregisterPrefix(layout: StoreLayout, meta: string): Promise<void> {
  await fsp.rm(registrationFile(layout, meta), { force: true }).catch((err: unknown) => {
    // no registration can be there (a store path that is a file): nothing to undo
    if (errnoCode(err) !== 'ENOTDIR') throw err;
  });
}
