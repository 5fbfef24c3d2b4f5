import type { PrefixStatus } from '../../lib/index.js';
import { count, table } from '../output.js';
import { prefixCommand } from '../prefix-command.js';

export const status = prefixCommand({
  name: 'status',
  summary: "show a prefix's layout, current generation and active packages",
  help: [
    'Never waits. transaction: none, running (a live writer holds the prefix), or interrupted (a dead',
    "writer's journal that could not be recovered now; interruptedReason says why)",
    '--json: {prefix, layout, store, generation, packages, transaction, interruptedReason?, transactionInProgress}',
  ],
  call: (prefix) => prefix.status(),
  human: (s) => [
    `prefix:     ${s.prefix} (${s.layout})`,
    `store:      ${s.store}`,
    `generation: ${s.generation}${s.transaction === 'running' ? ' (a transaction is running)' : ''}`,
    ...(s.transaction === 'interrupted'
      ? [`transaction: interrupted, ${s.interruptedReason ?? 'not recovered'}`]
      : []),
    `packages:   ${count(s.packages.length, 'package')}`,
    ...packageRows(s),
  ],
});

function packageRows(s: PrefixStatus): string[] {
  const rows = s.packages.map((p) => [p.name, p.version, p.id.slice(0, 12)]);
  return table(rows).map((line) => `  ${line}`);
}
