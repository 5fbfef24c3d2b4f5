import { requirePositionals, type Command } from '../command.js';
import {
  OVERWRITE_HELP,
  OVERWRITE_OPTION,
  TXN_HELP,
  TXN_OPTIONS,
  VERIFY_HELP,
  VERIFY_OPTION,
  prefixOf,
  printTxn,
  txnOptionsOf,
} from '../prefix-options.js';

export const activate: Command = {
  name: 'activate',
  summary:
    'activate entries in a prefix, replacing other versions of the same names, in one transaction',
  usage:
    'pstore activate REF... --prefix DIR [--layout inplace|generations] [--link auto|hardlink|reflink|copy] [--verify] [--overwrite GLOB]... [--replace NAME]...',
  help: [
    'REF              NAME@VERSION, NAME, or an entry id',
    ...TXN_HELP,
    VERIFY_HELP,
    ...OVERWRITE_HELP,
    '--replace NAME   deactivate NAME in the same transaction (repeatable): swap a package for one that',
    '                 ships the same paths; NAME must be active (exit 6 otherwise)',
    '--json: {prefix, generation, previousGeneration, activated:[{name,version,id}], deactivated:[...], noop, link}',
  ],
  options: {
    ...TXN_OPTIONS,
    ...VERIFY_OPTION,
    ...OVERWRITE_OPTION,
    replace: { type: 'string', multiple: true },
  },
  async run(ctx) {
    requirePositionals(ctx.positionals, 1, Infinity, 'REF', 'activate');
    const replace = (ctx.values.replace as string[] | undefined) ?? [];
    printTxn(
      ctx,
      await prefixOf(ctx, 'activate').activate(ctx.positionals, {
        ...txnOptionsOf(ctx),
        ...(replace.length ? { replace } : {}),
      }),
    );
  },
};
