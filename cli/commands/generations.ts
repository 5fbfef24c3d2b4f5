import { requirePositionals, type Command } from '../command.js';
import { PREFIX_HELP, PREFIX_OPTION, prefixOf } from '../prefix-options.js';

export const generations: Command = {
  name: 'generations',
  summary: "list a prefix's generations",
  usage: 'pstore generations --prefix DIR',
  help: [PREFIX_HELP, '--json: [{generation, current, createdAt, packages}]'],
  options: PREFIX_OPTION,
  async run(ctx) {
    requirePositionals(ctx.positionals, 0, 0, '', 'generations');
    const gens = await prefixOf(ctx, 'generations').generations();
    ctx.out.result(gens, () =>
      gens.map(
        (g) =>
          `${g.current ? '*' : ' '} ${String(g.generation).padStart(4)}  ${g.createdAt}  ${g.packages.map((p) => `${p.name}@${p.version}`).join(' ')}`,
      ),
    );
  },
};
