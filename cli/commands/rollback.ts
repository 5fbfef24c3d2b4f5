import { NO_OPERANDS, type Command, LOCKING_BUILTINS } from '../command.js';
import { TXN_HELP, TXN_OPTIONS, wholeNumber, runTxn } from '../prefix-options.js';

export const rollback: Command = {
  name: 'rollback',
  builtins: LOCKING_BUILTINS,
  summary: 'return a prefix to the previous (or a given) generation',
  usage: 'pstore rollback --prefix DIR [--to GEN]',
  help: [
    ...TXN_HELP,
    '--to GEN         the generation to return to (default: the one before the current);',
    '                 0: an inplace prefix before its first transaction (what it overwrote comes back)',
    'Rollback makes an existing generation current again; it records no new generation.',
    '--json: as activate',
  ],
  options: { ...TXN_OPTIONS, to: { type: 'string' } },
  operands: NO_OPERANDS,
  async run(ctx) {
    const raw = ctx.values.to;
    const to =
      typeof raw === 'string'
        ? wholeNumber(raw, `--to must be a generation number, not ${JSON.stringify(raw)}`, {
            subject: '--to',
          })
        : undefined;
    await runTxn(ctx, 'rollback', (prefix, opts) =>
      prefix.rollback({ ...opts, ...(to === undefined ? {} : { to }) }),
    );
  },
};
