import type { PrefixLinks, StoreUsage } from '../../lib/index.js';
import { NO_OPERANDS, existingStore, type Command, LOCKING_BUILTINS } from '../command.js';
import { count, formatBytes, table } from '../output.js';

export const du: Command = {
  name: 'du',
  builtins: LOCKING_BUILTINS,
  summary: "show the store's disk usage and what deduplication and hard links save (alias: stats)",
  usage: 'pstore du',
  help: [
    'store size, objects, entries; bytes shared by dedup (entries that use the same objects) and saved by',
    'hard links from prefixes; per registered prefix: its generation and how many files are hard links',
    '--json: {store, bytes, objects, objectBytes, entries, entryBytes, sharedBytes, linkedBytes,',
    '         prefixes: [{dir, generation, packages, files, linked, copied, missing}]}',
  ],
  options: {},
  operands: NO_OPERANDS,
  async run({ out, store }) {
    const u = await (await existingStore(store)).du();
    out.result(u, () => [...summaryLines(u), ...prefixLines(u.prefixes)]);
  },
};

function summaryLines(u: StoreUsage): string[] {
  return table(
    [
      ['store', u.store, formatBytes(u.bytes)],
      ['objects', count(u.objects, 'object'), formatBytes(u.objectBytes)],
      ['entries', count(u.entries, 'entry', 'entries'), formatBytes(u.entryBytes)],
      ['shared by dedup', '', formatBytes(u.sharedBytes)],
      ['saved by hard links', '', formatBytes(u.linkedBytes)],
    ],
    [2],
  );
}

function prefixLines(prefixes: readonly PrefixLinks[]): string[] {
  if (!prefixes.length) return [];
  const rows = prefixes.map((p) =>
    p.generation === null
      ? [p.dir, 'missing', '', '', '']
      : [
          p.dir,
          `generation ${p.generation}`,
          count(p.packages, 'package'),
          `${p.linked}/${count(p.files, 'file')} linked`,
          [p.copied ? `${p.copied} copied` : '', p.missing ? `${p.missing} missing` : '']
            .filter(Boolean)
            .join(', '),
        ],
  );
  return ['', 'prefixes:', ...table(rows, [2, 3]).map((l) => `  ${l.trimEnd()}`)];
}
