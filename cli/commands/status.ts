import { requirePositionals, type Command } from '../command.js';
import { PREFIX_HELP, PREFIX_OPTION, prefixOf } from '../prefix-options.js';

export const status: Command = {
  name: 'status',
  summary: "show a prefix's layout, current generation and active packages",
  usage: 'pstore status --prefix DIR',
  help: [PREFIX_HELP, 'Never waits for a running transaction. --json: {prefix, layout, store, generation, packages, transactionInProgress}'],
  options: PREFIX_OPTION,
  async run(ctx) {
    requirePositionals(ctx.positionals, 0, 0, '', 'status');
    const s = await prefixOf(ctx, 'status').status();
    ctx.out.result(s, () => [
      `prefix:     ${s.prefix} (${s.layout})`,
      `store:      ${s.store}`,
      `generation: ${s.generation}${s.transactionInProgress ? ' (a transaction is running)' : ''}`,
      ...s.packages.map((p) => `  ${p.name}@${p.version}  ${p.id.slice(0, 12)}`),
    ]);
  },
};
