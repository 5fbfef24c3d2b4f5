import type { Command } from '../command.js';
import { requirePositionals } from '../command.js';
import { formatBytes } from '../output.js';

export const info: Command = {
  name: 'info',
  summary: "summarize an entry's manifest",
  usage: 'pstore info REF [--paths]',
  help: [
    'REF              NAME@VERSION (latest added), NAME (latest added of any version), or an entry id (8+ hex digits)',
    '--paths          also list every path of the manifest',
  ],
  options: { paths: { type: 'boolean' } },
  async run({ positionals, values, out, store }) {
    requirePositionals(positionals, 1, 1, 'REF', 'info');
    const e = await store().info(positionals[0]!, { paths: values.paths === true });
    out.result(e, () => [
      `id:        ${e.id}`,
      `name:      ${e.name}`,
      `version:   ${e.version}`,
      `integrity: ${e.integrity}`,
      `files:     ${e.files} (${formatBytes(e.bytes)}), ${e.dirs} directories, ${e.symlinks} symlinks`,
      `markers:   ${e.markers.length ? e.markers.join(' ') : '(defaults only)'}`,
      `added:     ${e.addedAt}`,
      ...(e.paths ?? []).map((p) => `  ${p.type === 'dir' ? 'd' : p.type === 'symlink' ? 'l' : p.exec ? 'x' : 'f'} ${p.path}${p.type === 'symlink' ? ` -> ${p.target}` : ''}`),
    ]);
  },
};
