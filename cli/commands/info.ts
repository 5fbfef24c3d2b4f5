import { oneOperand, existingStore, type Command } from '../command.js';
import { count, formatBytes } from '../output.js';
import { PREFIX_OPTION, prefixOf } from '../prefix-options.js';

export const info: Command = {
  name: 'info',
  summary: "summarize an entry's manifest",
  usage: 'pstore info REF [--paths] [--prefix DIR]',
  help: [
    'REF              NAME@VERSION (latest added), NAME (when one version is in the store), or an entry id (8+ hex digits)',
    '--paths          also list every path of the manifest',
    '--prefix DIR     the entry active in DIR that REF names (NAME: the version active there); exit 6 if none is',
  ],
  options: { paths: { type: 'boolean' }, ...PREFIX_OPTION },
  operands: oneOperand('REF'),
  async run(ctx) {
    const { positionals, values, out, store } = ctx;
    const opts = { paths: values.paths === true };
    const e =
      values.prefix === undefined
        ? await (await existingStore(store)).info(positionals[0]!, opts)
        : await prefixOf(ctx, 'info').info(positionals[0]!, opts);
    out.result(e, () => [
      `id:        ${e.id}`,
      `name:      ${e.name}`,
      `version:   ${e.version}`,
      `integrity: ${e.integrity}`,
      `files:     ${e.files} (${formatBytes(e.bytes)}), ${count(e.dirs, 'directory', 'directories')}, ${count(e.symlinks, 'symlink')}`,
      `markers:   ${e.markers.length ? e.markers.join(' ') : '(defaults only)'}`,
      `added:     ${e.addedAt}`,
      ...(e.paths ?? []).map(
        (p) =>
          `  ${p.type === 'dir' ? 'd' : p.type === 'symlink' ? 'l' : p.exec ? 'x' : 'f'} ${p.path}${p.type === 'symlink' ? ` -> ${p.target}` : ''}`,
      ),
    ]);
  },
};
