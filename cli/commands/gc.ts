import type { Command } from '../command.js';
import { requirePositionals } from '../command.js';
import { formatBytes } from '../output.js';

export const gc: Command = {
  name: 'gc',
  summary: 'remove objects and entries nothing refers to, and leftover temporary files',
  usage: 'pstore gc [--dry-run]',
  help: [
    '--dry-run        report what would be removed, remove nothing',
    '--json: {dryRun, entriesRemoved, objectsRemoved, bytesFreed, tmpRemoved}',
  ],
  options: { 'dry-run': { type: 'boolean' } },
  async run({ positionals, values, out, store }) {
    requirePositionals(positionals, 0, 0, '', 'gc');
    const r = await store().gc({ dryRun: values['dry-run'] === true });
    const verb = r.dryRun ? 'would remove' : 'removed';
    out.result(r, () => `${verb} ${r.entriesRemoved.length} entries, ${r.objectsRemoved} objects (${formatBytes(r.bytesFreed)}), ${r.tmpRemoved} temporary files`);
  },
};
