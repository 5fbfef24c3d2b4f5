import { requirePositionals, type Command } from '../command.js';
import { TXN_HELP, TXN_OPTIONS, prefixOf, printTxn, txnOptionsOf } from '../prefix-options.js';

export const deactivate: Command = {
  name: 'deactivate',
  summary: 'remove packages from a prefix, in one transaction',
  usage: 'pstore deactivate NAME... --prefix DIR',
  help: ['NAME             an active package name (exit 6 if not active)', ...TXN_HELP, '--json: as activate'],
  options: TXN_OPTIONS,
  async run(ctx) {
    requirePositionals(ctx.positionals, 1, Infinity, 'NAME', 'deactivate');
    printTxn(ctx, await prefixOf(ctx, 'deactivate').deactivate(ctx.positionals, txnOptionsOf(ctx)));
  },
};
