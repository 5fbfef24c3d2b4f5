// Registered prefixes (SPEC.md §GC roots): gc reads every registered prefix's generations and
// journal as roots. Key: the prefix's state directory; value: where it is and its layout.

import type { LayoutKind } from '../prefix/layout.js';
import { commitBatch } from './entries.js';
import type { IndexDb } from './index-db.js';

export interface PrefixRegistration {
  dir: string;
  meta: string;
  layout: LayoutKind;
}

const sub = (db: IndexDb) => db.sublevel<string, PrefixRegistration>('prefixes', { valueEncoding: 'json' });

export async function registerPrefix(db: IndexDb, reg: PrefixRegistration): Promise<void> {
  const s = sub(db);
  if ((await s.get(reg.meta)) === undefined) await commitBatch(db, [{ type: 'put', sublevel: s, key: reg.meta, value: reg }]);
}

export async function listPrefixes(db: IndexDb): Promise<PrefixRegistration[]> {
  const out: PrefixRegistration[] = [];
  for await (const v of sub(db).values()) out.push(v);
  return out;
}

export async function unregisterPrefix(db: IndexDb, meta: string): Promise<void> {
  await commitBatch(db, [{ type: 'del', sublevel: sub(db), key: meta }]);
}
