import path from 'node:path';
import { readLockfile } from '../../lib/index.js';
import { oneOperand, type Command, type CommandContext, LOCKING_BUILTINS } from '../command.js';
import {
  REMOTE_DEFAULT_HELP,
  REMOTE_HELP,
  REMOTE_OPTIONS,
  remoteOf,
  remoteOptionsOf,
} from '../remote-options.js';
import { heldAlready, PLACING_OPTIONS, placingHelp, runTxn } from '../prefix-options.js';

export const sync: Command = {
  name: 'sync',
  builtins: LOCKING_BUILTINS,
  summary: 'make the active set of a prefix exactly a lockfile, in one transaction',
  usage:
    'pstore sync LOCKFILE --prefix DIR [--layout inplace|generations] [--link auto|hardlink|reflink|copy] [--verify] [--overwrite GLOB]...',
  help: [
    'LOCKFILE         written by pstore lock; every entry must be in the store (exit 6 lists the missing ones)',
    ...placingHelp([
      '--from REMOTE    first pull what the store lacks from REMOTE (no request when nothing is missing)',
      REMOTE_HELP[0]!,
      '                 (--verbose then also logs every HTTP request; never a credential)',
      ...REMOTE_DEFAULT_HELP,
      '                 with no remote at all, entries the store lacks are exit 6',
    ]),
    'A prefix that already matches is left alone (noop: true). --json: as activate',
  ],
  options: {
    ...PLACING_OPTIONS,
    from: { type: 'string' },
    ...REMOTE_OPTIONS,
  },
  operands: oneOperand('LOCKFILE'),
  // A prefix that holds the lockfile already is answered before the store or the library is
  // touched, with no pull: every entry a prefix holds is in its store.
  served: async (ctx) => heldAlready(ctx, await lockfileOf(ctx)),
  async run(ctx) {
    const lockfile = await lockfileOf(ctx);
    const remote = await remoteOf(ctx, 'from');
    if (remote) await ctx.store().pull([], remote, { ...remoteOptionsOf(ctx), lock: lockfile });
    await runTxn(ctx, 'sync', (prefix, opts) => prefix.syncLockfile(lockfile, opts));
  },
};

function lockfileOf(ctx: CommandContext) {
  return readLockfile(path.resolve(ctx.positionals[0]!));
}
