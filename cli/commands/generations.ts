import type { GenerationInfo } from '../../lib/index.js';
import { requirePositionals, type Command } from '../command.js';
import { count, table } from '../output.js';
import { PREFIX_HELP, PREFIX_OPTION, prefixOf } from '../prefix-options.js';

export const generations: Command = {
  name: 'generations',
  summary: "list a prefix's generations",
  usage: 'pstore generations --prefix DIR',
  help: [
    PREFIX_HELP,
    'One line per generation (* = current): number, time, package count, the command that made it',
    '(older records without one list their packages instead); pstore diff shows what changed',
    '--json: [{generation, current, createdAt, command?, packages}]',
  ],
  options: PREFIX_OPTION,
  async run(ctx) {
    requirePositionals(ctx.positionals, 0, 0, '', 'generations');
    const gens = await prefixOf(ctx, 'generations').generations();
    ctx.out.result(gens, () => table(gens.map(generationRow), [1]));
  },
};

function generationRow(g: GenerationInfo): string[] {
  return [
    g.current ? '*' : ' ',
    String(g.generation),
    g.createdAt,
    count(g.packages.length, 'package'),
    g.command ?? g.packages.map((p) => `${p.name}@${p.version}`).join(' '),
  ];
}
