import type { GenerationInfo } from '../../lib/index.js';
import { count, table } from '../output.js';
import { prefixCommand } from '../prefix-command.js';

export const generations = prefixCommand({
  name: 'generations',
  summary: "list a prefix's generations",
  help: [
    'One line per generation (* = current): number, time, package count, the command that made it',
    '(older records without one list their packages instead); pstore diff shows what changed',
    '--json: [{generation, current, createdAt, command?, packages}]',
  ],
  call: (prefix) => prefix.generations(),
  human: (gens) => table(gens.map(generationRow), [1]),
});

function generationRow(g: GenerationInfo): string[] {
  return [
    g.current ? '*' : ' ',
    String(g.generation),
    g.createdAt,
    count(g.packages.length, 'package'),
    g.command ?? g.packages.map((p) => `${p.name}@${p.version}`).join(' '),
  ];
}
