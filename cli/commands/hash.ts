import { requirePositionals, type Command } from '../command.js';
import { PREFIX_HELP, PREFIX_OPTION, prefixOf } from '../prefix-options.js';

export const hash: Command = {
  name: 'hash',
  summary:
    "print a digest of a prefix's owned tree (paths, types, exec bits, contents, symlink targets)",
  usage: 'pstore hash --prefix DIR',
  help: [
    PREFIX_HELP,
    'mtimes, owners and files no package owns are not part of the digest',
    'waits (up to --wait) for a running transaction; transaction: interrupted means the files may be a mix',
    '--json: {prefix, generation, digest, paths, transaction, interruptedReason?, transactionInProgress}',
  ],
  options: PREFIX_OPTION,
  async run(ctx) {
    requirePositionals(ctx.positionals, 0, 0, '', 'hash');
    const r = await prefixOf(ctx, 'hash').hash();
    ctx.out.result(r, () => r.digest);
  },
};
