// The commands that take nothing but --prefix and make one call on that prefix (hash,
// generations, recover): one shape, so that each command is only its call and its printing.

import type { Prefix } from '../lib/index.js';
import { NO_OPERANDS, type Command, type CommandContext } from './command.js';
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
      noteInterrupted(ctx, result);
    },
  };
}

/**
 * A reader that found a dead writer's journal it may not recover (another user's prefix) says so
 * beside its answer, as `--json` does in `transaction`: the files may be a mix of the two states.
 */
function noteInterrupted(ctx: CommandContext, result: unknown): void {
  const r = result as { transaction?: unknown; interruptedReason?: unknown };
  if (r.transaction !== 'interrupted') return;
  const why = typeof r.interruptedReason === 'string' ? ` (${r.interruptedReason})` : '';
  ctx.out.note(
    `an interrupted transaction of this prefix is not recovered${why}: its files may be a mix of the old and the new state until a writer of the prefix recovers it`,
  );
}
