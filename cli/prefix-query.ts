// The read-only commands that ask one question of a prefix and take nothing but --prefix (hash,
// status, generations): one shape, so that each command is only its question and its printing.

import type { Prefix } from '../lib/index.js';
import { requirePositionals, type Command } from './command.js';
import { PREFIX_HELP, PREFIX_OPTION, prefixOf } from './prefix-options.js';

export interface PrefixQuery<T> {
  name: string;
  summary: string;
  /** --help lines after --prefix's */
  help: string[];
  ask: (prefix: Prefix) => Promise<T>;
  /** the human form; --json prints the answer itself */
  human: (answer: T) => string | string[];
}

export function prefixQuery<T>(q: PrefixQuery<T>): Command {
  return {
    name: q.name,
    summary: q.summary,
    usage: `pstore ${q.name} --prefix DIR`,
    help: [PREFIX_HELP, ...q.help],
    options: PREFIX_OPTION,
    async run(ctx) {
      requirePositionals(ctx.positionals, 0, 0, '', q.name);
      const answer = await q.ask(prefixOf(ctx, q.name));
      ctx.out.result(answer, () => q.human(answer));
    },
  };
}
