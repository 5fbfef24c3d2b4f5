import { oneOperand, type Command, LOCKING_BUILTINS } from '../command.js';
import { stdinSize } from '../stdin.js';

export const importCmd: Command = {
  name: 'import',
  builtins: [...LOCKING_BUILTINS, 'node:zlib', 'node:assert'],
  summary:
    'verify a bundle byte for byte, then add its entries to the store (nothing on any damage)',
  usage: 'pstore import FILE',
  help: [
    'FILE             a bundle written by pstore export, or - for stdin',
    'exit 4 (EPSTORE_INTEGRITY) on any damage; nothing is imported then',
    '--json: {entries, objectsImported, objectsPresent}',
  ],
  options: {},
  operands: oneOperand('FILE'),
  async run({ positionals, out, store }) {
    const src = positionals[0]!;
    const progress = out.progress();
    const size = src === '-' ? stdinSize() : undefined;
    const r = await store().import(src === '-' ? process.stdin : src, {
      ...(progress ? { onProgress: progress } : {}),
      ...(size !== undefined ? { size } : {}),
    });
    out.result(r, () => [
      ...r.entries.map((e) => `${e.id}  ${e.name}@${e.version}`),
      `imported ${r.entries.length} entries, ${r.objectsImported} new objects`,
    ]);
  },
};
