// `pstore status`: a light command (cli/command.ts): it reads the prefix's state files through
// readPrefixStatus, with no store handle, so it loads no store, index or transaction code.

import { readPrefixStatus, type PrefixStatus } from '../../lib/index.js';
import { NO_OPERANDS, requireString, type Command } from '../command.js';
import { count, table } from '../output.js';
import { PREFIX_HELP, PREFIX_OPTION } from '../prefix-options.js';

export const status: Command = {
  name: 'status',
  summary: "show a prefix's layout, current generation and active packages",
  usage: 'pstore status --prefix DIR',
  help: [
    PREFIX_HELP,
    'Never waits. transaction: none, running (a live writer holds the prefix), or interrupted (a dead',
    "writer's journal that could not be recovered now; interruptedReason says why)",
    '--json: {prefix, layout, store, generation, packages, transaction, interruptedReason?, transactionInProgress}',
  ],
  options: PREFIX_OPTION,
  operands: NO_OPERANDS,
  light: true,
  async run(ctx) {
    const wait = ctx.values.wait;
    const s = await readPrefixStatus(requireString(ctx.values, 'prefix', 'status'), {
      ...(typeof wait === 'string' ? { waitSeconds: Number(wait) } : {}),
      onWait: (what) => ctx.out.note(what),
    });
    ctx.out.result(s, () => human(s));
  },
};

function human(s: PrefixStatus): string[] {
  return [
    `prefix:     ${s.prefix} (${s.layout})`,
    `store:      ${s.store}`,
    `generation: ${s.generation}${s.transaction === 'running' ? ' (a transaction is running)' : ''}`,
    ...(s.transaction === 'interrupted'
      ? [`transaction: interrupted, ${s.interruptedReason ?? 'not recovered'}`]
      : []),
    `packages:   ${count(s.packages.length, 'package')}`,
    ...packageRows(s),
  ];
}

function packageRows(s: PrefixStatus): string[] {
  const rows = s.packages.map((p) => [p.name, p.version, p.id.slice(0, 12)]);
  return table(rows).map((line) => `  ${line}`);
}
