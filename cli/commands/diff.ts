import type { FileChanges, GenerationDiff, VersionChange } from '../../lib/index.js';
import { type Command } from '../command.js';
import { PREFIX_HELP, PREFIX_OPTION, wholeNumber, prefixOf } from '../prefix-options.js';

export const diff: Command = {
  name: 'diff',
  summary: 'show what changed between two generations of a prefix',
  usage: 'pstore diff [GEN_A [GEN_B]] --prefix DIR [--files]',
  help: [
    'GEN_A, GEN_B     generation numbers (0 = the empty prefix); default GEN_A: the generation before GEN_B,',
    '                 GEN_B: the current one. Exit 6 if one does not exist (see pstore generations)',
    PREFIX_HELP,
    '--files          also list the paths added (A), removed (D) and changed (M) between the two sets',
    'Prints "+ NAME@V" (added), "- NAME@V" (removed), "^ NAME A -> B" (upgraded), "v NAME A -> B" (downgraded),',
    '"~ NAME V" (same version, other content)',
    '--json: {prefix, from, to, added, removed, upgraded, downgraded, changed, files?: {added, removed, changed}}',
  ],
  options: { ...PREFIX_OPTION, files: { type: 'boolean' } },
  operands: { min: 0, max: 2, what: '' },
  async run(ctx) {
    const [from, to] = ctx.positionals.map(generationArg);
    const range = { ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) };
    const d = await prefixOf(ctx, 'diff').diff({ ...range, files: ctx.values.files === true });
    ctx.out.result(d, () => humanDiff(d));
  },
};

function generationArg(arg: string): number {
  return wholeNumber(arg, `diff: ${JSON.stringify(arg)} is not a generation number`, {
    subject: arg,
    hint: 'see pstore generations',
  });
}

const versions = (c: VersionChange) => `${c.name} ${c.from.version} -> ${c.to.version}`;

function humanDiff(d: GenerationDiff): string[] {
  const lines = [
    ...d.added.map((p) => `+ ${p.name}@${p.version}`),
    ...d.removed.map((p) => `- ${p.name}@${p.version}`),
    ...d.upgraded.map((c) => `^ ${versions(c)}`),
    ...d.downgraded.map((c) => `v ${versions(c)}`),
    ...d.changed.map(
      (c) => `~ ${c.name} ${c.to.version} (${c.from.id.slice(0, 12)} -> ${c.to.id.slice(0, 12)})`,
    ),
    ...(d.files ? fileLines(d.files) : []),
  ];
  return [`generation ${d.from} -> ${d.to}${lines.length ? '' : ': no differences'}`, ...lines];
}

function fileLines(f: FileChanges): string[] {
  return [
    ...f.added.map((p) => `  A ${p}`),
    ...f.removed.map((p) => `  D ${p}`),
    ...f.changed.map((p) => `  M ${p}`),
  ];
}
