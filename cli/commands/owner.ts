import { PstoreError, type PackageRef, type PathOwners } from '../../lib/index.js';
import { someOperands, existingStore, type Command, type CommandContext } from '../command.js';
import { prefixOf } from '../prefix-options.js';
import { exitCodeOf } from '../exit-codes.js';

const fmt = (p: PackageRef) => `${p.name}@${p.version}`;

type Found = PathOwners & { prefix?: string | null };

export const owner: Command = {
  name: 'owner',
  summary: 'show which active packages own paths of a prefix (as dpkg -S, pacman -Qo)',
  usage: 'pstore owner PATH... [--prefix DIR]',
  help: [
    'PATH             absolute (inside DIR), or relative to DIR; a directory shared by several packages lists each',
    '--prefix DIR     the prefix; without it each PATH (relative: to the working directory) is looked up in',
    '                 the prefix registered with the store that contains it',
    'Prints "NAME@VERSION[, NAME@VERSION...]: PATH" per owned path; exit 6 if any path has no owner (each such',
    'path is reported on stderr, the owned ones are still printed)',
    '--json: [{path, relative, owners: [{name, version, id}]}] (relative: null outside DIR; owners: [] if unowned)',
    '   without --prefix each also has prefix: the registered prefix that contains it, or null',
  ],
  options: { prefix: { type: 'string' } },
  operands: someOperands('PATH'),
  async run(ctx) {
    const { found, where } = await lookUp(ctx);
    ctx.out.result(
      found.map((f) => ({ ...f, relative: f.relative ?? null })),
      () =>
        found
          .filter((f) => f.owners.length)
          .map((f) => `${f.owners.map(fmt).join(', ')}: ${f.path}`),
    );
    const unowned = found.filter((f) => !f.owners.length);
    for (const f of unowned) {
      const why =
        f.relative === undefined
          ? `${f.path} is not inside ${where}`
          : `no active package owns ${f.path}`;
      ctx.out.error(new PstoreError('EPSTORE_NOT_FOUND', why, { subject: f.path }));
    }
    return unowned.length ? exitCodeOf('EPSTORE_NOT_FOUND') : 0;
  },
};

async function lookUp(ctx: CommandContext): Promise<{ found: Found[]; where: string }> {
  if (ctx.values.prefix !== undefined) {
    const prefix = prefixOf(ctx, 'owner');
    return { found: await prefix.owners(ctx.positionals), where: `the prefix ${prefix.dir}` };
  }
  const store = await existingStore(ctx.store);
  return {
    found: await store.owners(ctx.positionals),
    where: `any prefix registered with the store ${store.root}`,
  };
}
