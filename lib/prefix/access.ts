// Finding a managed prefix and the store that manages it, for the prefix handle's methods.

import path from 'node:path';
import type { PrefixPaths } from './layout.js';
import { canonicalPrefixDir, notManaged } from './open.js';
import { detectPrefix, type PrefixRecord } from './state.js';
import { createContext, type StoreContext } from '../store/context.js';

export interface ManagedPrefix {
  paths: PrefixPaths;
  record: PrefixRecord;
}

export async function findManagedPrefix(dir: string): Promise<ManagedPrefix> {
  const abs = await canonicalPrefixDir(dir, undefined);
  const found = await detectPrefix(abs);
  if (!found) throw notManaged(abs);
  return found;
}

/** Operations on a prefix use the store that manages it, whatever --store says. */
export function contextFor(ctx: StoreContext, record: PrefixRecord): StoreContext {
  return path.resolve(record.store) === ctx.root
    ? ctx
    : createContext({
        path: record.store,
        waitSeconds: ctx.waitMs / 1000,
        onWait: ctx.onWait ?? (() => {}),
      });
}
