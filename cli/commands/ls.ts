import type { Command } from '../command.js';
import { requirePositionals } from '../command.js';
import { formatBytes } from '../output.js';

export const ls: Command = {
  name: 'ls',
  summary: 'list the entries in the store',
  usage: 'pstore ls',
  help: ['--json: [{id, name, version, integrity, files, bytes, addedAt, ...}]'],
  options: {},
  async run({ positionals, out, store }) {
    requirePositionals(positionals, 0, 0, '', 'ls');
    const entries = await store().list();
    out.result(entries, () => entries.map((e) => `${e.id.slice(0, 12)}  ${e.name}@${e.version}  ${e.files} files  ${formatBytes(e.bytes)}`));
  },
};
