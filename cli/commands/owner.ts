import { PstoreError, type PackageRef } from '../../lib/index.js';
import { exitCodeOf } from '../exit-codes.js';
import { requirePositionals, type Command } from '../command.js';
import { PREFIX_HELP, PREFIX_OPTION, prefixOf } from '../prefix-options.js';

const fmt = (p: PackageRef) => `${p.name}@${p.version}`;

export const owner: Command = {
  name: 'owner',
  summary: 'show which active packages own paths of a prefix (as dpkg -S, pacman -Qo)',
  usage: 'pstore owner PATH... --prefix DIR',
  help: [
    'PATH             absolute (inside DIR), or relative to DIR; a directory shared by several packages lists each',
    PREFIX_HELP,
    'Prints "NAME@VERSION[, NAME@VERSION...]: PATH" per owned path; exit 6 if any path has no owner (each such',
    'path is reported on stderr, the owned ones are still printed)',
    '--json: [{path, relative, owners: [{name, version, id}]}] (relative: null outside DIR; owners: [] if unowned)',
  ],
  options: PREFIX_OPTION,
  async run(ctx) {
    requirePositionals(ctx.positionals, 1, Infinity, 'PATH', 'owner');
    const prefix = prefixOf(ctx, 'owner');
    const found = await prefix.owners(ctx.positionals);
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
          ? `${f.path} is not inside the prefix ${prefix.dir}`
          : `no active package owns ${f.path}`;
      ctx.out.error(new PstoreError('EPSTORE_NOT_FOUND', why, { subject: f.path }));
    }
    return unowned.length ? exitCodeOf('EPSTORE_NOT_FOUND') : 0;
  },
};
