import { someOperands, type Command } from '../command.js';
import { TXN_HELP, TXN_OPTIONS, runTxn, servedByWriter } from '../prefix-options.js';

export const deactivate: Command = {
  name: 'deactivate',
  summary: 'remove packages from a prefix, in one transaction',
  usage: 'pstore deactivate NAME[@VERSION]... --prefix DIR',
  help: [
    'NAME             an active package name, or NAME@VERSION naming the active version (exit 6 if not active,',
    '                 saying which version is)',
    ...TXN_HELP,
    '--json: as activate',
  ],
  options: TXN_OPTIONS,
  operands: someOperands('NAME'),
  served: (ctx) => servedByWriter(ctx, 'deactivate', { deactivate: ctx.positionals }),
  async run(ctx) {
    await runTxn(ctx, 'deactivate', (prefix, opts) => prefix.deactivate(ctx.positionals, opts));
  },
};
