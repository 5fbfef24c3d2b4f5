import { compareVersions } from '../../lib/index.js';
import type { Command } from '../command.js';
import { NO_OPERANDS, existingStore } from '../command.js';
import { count, formatBytes, table } from '../output.js';

export const ls: Command = {
  name: 'ls',
  summary: 'list the entries in the store',
  usage: 'pstore ls',
  help: [
    'One line per entry: id, NAME@VERSION, files, size; by name, then version (as dpkg orders them).',
    '--json: [{id, name, version, integrity, files, bytes, addedAt, ...}]',
  ],
  options: {},
  operands: NO_OPERANDS,
  async run({ out, store }) {
    const entries = (await (await existingStore(store)).list()).sort(
      (a, b) =>
        (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) ||
        compareVersions(a.version, b.version) ||
        a.seq - b.seq,
    );
    out.result(entries, () =>
      table(
        entries.map((e) => [
          e.id.slice(0, 12),
          `${e.name}@${e.version}`,
          count(e.files, 'file'),
          formatBytes(e.bytes),
        ]),
        [2, 3],
      ),
    );
  },
};
