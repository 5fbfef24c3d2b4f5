// A store path that is a file (a mistyped --store) is refused before anything is made under it:
// by the store lock every store command takes, and by a transaction's first write to the store (its
// prefix's registration, before that lock). Its own module: a sync with nothing to do loads the
// registrations' code without the store context's.

import { promises as fsp } from 'node:fs';
import { PstoreError } from '../core/errors.js';

export async function refuseNonDirectory(store: { root: string }): Promise<void> {
  const st = await fsp.stat(store.root).catch(() => undefined);
  if (st && !st.isDirectory())
    throw new PstoreError('EPSTORE_INVALID', `${store.root} is not a directory; a store is one`, {
      subject: store.root,
      hint: 'check --store or $PSTORE_STORE',
    });
}
