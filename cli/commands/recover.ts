import { prefixCommand } from '../prefix-command.js';

export const recover = prefixCommand({
  name: 'recover',
  summary: 'finish or undo an interrupted transaction (every prefix command also does this first)',
  help: ['--json: {recovered, action: rolled-forward|rolled-back, txid, generation}'],
  call: (prefix) => prefix.recover(),
  human: (r) =>
    r.recovered
      ? `${r.action} transaction ${r.txid}: generation ${r.generation}`
      : 'nothing to recover',
});
