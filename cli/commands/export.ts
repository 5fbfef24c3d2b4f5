import path from 'node:path';
import { PstoreError, lockedPackages, readLockfile } from '../../lib/index.js';
import {
  existingStore,
  requirePositionals,
  requireString,
  outputPath,
  type Command,
  LOCKING_BUILTINS,
} from '../command.js';
import { formatBytes } from '../output.js';

export const exportCmd: Command = {
  name: 'export',
  builtins: [...LOCKING_BUILTINS, 'node:zlib', 'node:assert'],
  summary: 'write entries and every object they need into one verifiable bundle',
  usage: 'pstore export REF... -o FILE | pstore export --lock LOCKFILE -o FILE',
  help: [
    'REF              NAME@VERSION, NAME or an entry id',
    '--lock FILE      export exactly the entries a lockfile names',
    '-o, --output F   the bundle file (a tar; written atomically)',
    '--json: {file, entries, objects, bytes}',
  ],
  options: { output: { type: 'string', short: 'o' }, lock: { type: 'string' } },
  async run({ positionals, values, out, store }) {
    const file = outputPath(requireString(values, 'output', 'export'));
    let refs = positionals;
    if (typeof values.lock === 'string') {
      if (positionals.length)
        throw new PstoreError('EPSTORE_USAGE', 'export: give REFs or --lock, not both', {
          subject: '--lock',
        });
      refs = lockedPackages(await readLockfile(path.resolve(values.lock))).map((p) => p.id);
    } else {
      requirePositionals(positionals, 1, Infinity, 'REF (or --lock LOCKFILE)', 'export');
    }
    const r = await (await existingStore(store)).export(refs, file);
    out.result(
      r,
      () => `${r.file}: ${r.entries.length} entries, ${r.objects} objects, ${formatBytes(r.bytes)}`,
    );
  },
};
