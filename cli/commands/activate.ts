import { someOperands, type Command } from '../command.js';
import { PLACING_OPTIONS, placingHelp, runTxn, servedByWriter } from '../prefix-options.js';

export const activate: Command = {
  name: 'activate',
  summary:
    'activate entries in a prefix, replacing other versions of the same names, in one transaction',
  usage:
    'pstore activate REF... --prefix DIR [--layout inplace|generations] [--link auto|hardlink|reflink|copy] [--verify] [--overwrite GLOB]... [--replace NAME]...',
  help: [
    'REF              NAME@VERSION, NAME, or an entry id',
    ...placingHelp([]),
    '--replace NAME   deactivate NAME in the same transaction (repeatable): swap a package for one that',
    '                 ships the same paths; NAME must be active (exit 6 otherwise)',
    '--json: {prefix, generation, previousGeneration, activated:[{name,version,id}], deactivated:[...], noop, link}',
  ],
  options: {
    ...PLACING_OPTIONS,
    replace: { type: 'string', multiple: true },
  },
  operands: someOperands('REF'),
  served: (ctx) =>
    servedByWriter(ctx, 'activate', {
      activate: ctx.positionals,
      replace: (ctx.values.replace as string[] | undefined) ?? [],
    }),
  async run(ctx) {
    const replace = (ctx.values.replace as string[] | undefined) ?? [];
    await runTxn(ctx, 'activate', (prefix, opts) =>
      prefix.activate(ctx.positionals, { ...opts, ...(replace.length ? { replace } : {}) }),
    );
  },
};
