// The commands that take nothing but --prefix and make one call on that prefix (hash,
// generations, recover): one shape, so that each command is only its call and its printing.

import type { Prefix } from '../lib/index.js';
import { NO_OPERANDS, type Command } from './command.js';
import { PREFIX_HELP, PREFIX_OPTION, prefixOf } from './prefix-options.js';

export interface PrefixCommand<T> {
  name: string;
  summary: string;
  /** --help lines after --prefix's */
  help: string[];
  call: (prefix: Prefix) => Promise<T>;
  /** the human form; --json prints the result itself */
  human: (result: T) => string | string[];
}

export function prefixCommand<T>(c: PrefixCommand<T>): Command {
  return {
    name: c.name,
    summary: c.summary,
    usage: `pstore ${c.name} --prefix DIR`,
    help: [PREFIX_HELP, ...c.help],
    options: PREFIX_OPTION,
    operands: NO_OPERANDS,
    async run(ctx) {
      const result = await c.call(prefixOf(ctx, c.name));
      ctx.out.result(result, () => c.human(result));
    },
  };
}
