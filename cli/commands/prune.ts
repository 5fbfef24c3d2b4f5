import { NO_OPERANDS, requireString, type Command, LOCKING_BUILTINS } from '../command.js';
import { PREFIX_HELP, PREFIX_OPTION, prefixOf, wholeNumber } from '../prefix-options.js';

export const prune: Command = {
  name: 'prune',
  builtins: LOCKING_BUILTINS,
  summary: 'forget old generations, keeping the N most recent and the current one',
  usage: 'pstore prune --prefix DIR --keep N',
  help: [
    PREFIX_HELP,
    '--keep N         how many of the most recent generations to keep (the current one is always kept)',
    '--json: {prefix, removed, kept}',
  ],
  options: { ...PREFIX_OPTION, keep: { type: 'string' } },
  operands: NO_OPERANDS,
  async run(ctx) {
    const raw = requireString(ctx.values, 'keep', 'prune');
    const keep = wholeNumber(raw, `--keep must be a whole number, not ${JSON.stringify(raw)}`, {
      subject: '--keep',
    });
    const r = await prefixOf(ctx, 'prune').prune({ keep });
    ctx.out.result(
      r,
      () => `removed generations: ${r.removed.join(' ') || 'none'}; kept: ${r.kept.join(' ')}`,
    );
  },
};
