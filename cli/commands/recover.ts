import { requirePositionals, type Command } from '../command.js';
import { PREFIX_HELP, PREFIX_OPTION, prefixOf } from '../prefix-options.js';

export const recover: Command = {
  name: 'recover',
  summary: 'finish or undo an interrupted transaction (every prefix command also does this first)',
  usage: 'pstore recover --prefix DIR',
  help: [PREFIX_HELP, '--json: {recovered, action: rolled-forward|rolled-back, txid, generation}'],
  options: PREFIX_OPTION,
  async run(ctx) {
    requirePositionals(ctx.positionals, 0, 0, '', 'recover');
    const r = await prefixOf(ctx, 'recover').recover();
    ctx.out.result(r, () =>
      r.recovered
        ? `${r.action} transaction ${r.txid}: generation ${r.generation}`
        : 'nothing to recover',
    );
  },
};
