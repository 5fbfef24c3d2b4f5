// Options shared by the commands that talk to an OCI remote (push, pull, sync --from).

import path from 'node:path';
import {
  defaultRemote,
  PstoreError,
  readLockfile,
  type Lockfile,
  type RemoteOptions,
  type RemoteTransferOptions,
  type Store,
} from '../lib/index.js';
import { requirePositionals, type Command, type CommandContext } from './command.js';

export const REMOTE_OPTIONS = {
  'plain-http': { type: 'boolean' as const },
  verbose: { type: 'boolean' as const },
};
/** where a remote comes from when the command line names none */
export const REMOTE_DEFAULT_HELP = [
  'REMOTE           oci://HOST[:PORT]/REPOSITORY; without the flag: $PSTORE_REMOTE, else "remote" in',
  '                 $XDG_CONFIG_HOME/pstore/config.json (else ~/.config/pstore/config.json)',
];
export const REMOTE_HELP = [
  '--plain-http     speak HTTP, not HTTPS, to a host that is not loopback (loopback always uses HTTP)',
  '--verbose        log every HTTP request (method, URL, status; never a credential) on stderr',
  ...REMOTE_DEFAULT_HELP,
  '                 credentials: PSTORE_REGISTRY_USERNAME/PASSWORD or docker config.json auths',
  'exit 8 (EPSTORE_REMOTE): registry unreachable, credentials refused, protocol or HTTP error',
];

/** push or pull: what differs between the two; the rest of the command is {@link transferCommand}'s. */
export interface Transfer<R> {
  name: 'push' | 'pull';
  /** the remote's flag */
  flag: 'to' | 'from';
  summary: string;
  usage: string;
  help: string[];
  move: (store: Store, refs: string[], remote: string, opts: RemoteTransferOptions) => Promise<R>;
  human: (result: R) => string[];
}

export function transferCommand<R>(t: Transfer<R>): Command {
  return {
    name: t.name,
    summary: t.summary,
    usage: t.usage,
    help: t.help,
    options: {
      [t.flag]: { type: 'string' as const },
      lock: { type: 'string' as const },
      'dry-run': { type: 'boolean' as const },
      ...REMOTE_OPTIONS,
    },
    async run(ctx) {
      const remote = await requiredRemote(ctx, t.flag, t.name);
      const { refs, lock } = await refsOrLock(ctx, t.name);
      const opts = { ...remoteOptionsOf(ctx), ...(lock ? { lock } : {}) };
      const result = await t.move(ctx.store(), refs, remote, opts);
      ctx.out.result(result, () => t.human(result));
    },
  };
}

/** A line per entry (`<verb|present>  NAME@VERSION  <id[0:12]>`), `after`, then the totals line. */
export function transferLines<E extends { id: string; name: string; version: string }>(
  r: { remote: string; entries: readonly E[] },
  moved: (e: E) => boolean,
  verb: string,
  more: { after?: string[]; totals: string },
): string[] {
  const count = r.entries.filter(moved).length;
  return [
    ...r.entries.map(
      (e) => `${moved(e) ? verb : 'present'}  ${e.name}@${e.version}  ${e.id.slice(0, 12)}`,
    ),
    ...(more.after ?? []),
    `${r.remote}: ${count} ${verb}, ${r.entries.length - count} present, ${more.totals}`,
  ];
}

/**
 * `--to`/`--from REMOTE`, else the default remote ($PSTORE_REMOTE, else the config file's), else
 * undefined. With --verbose, says on stderr where a default came from.
 */
export async function remoteOf(
  ctx: CommandContext,
  flag: 'to' | 'from',
): Promise<string | undefined> {
  const v = ctx.values[flag];
  if (typeof v === 'string' && v !== '') return v;
  const found = await defaultRemote();
  if (found && ctx.values.verbose === true && !ctx.out.mode.quiet)
    process.stderr.write(`pstore: remote ${found.remote} from ${found.source}\n`);
  return found?.remote;
}

/** {@link remoteOf}, and EPSTORE_USAGE when there is none. */
async function requiredRemote(ctx: CommandContext, flag: 'to' | 'from', cmd: string) {
  const remote = await remoteOf(ctx, flag);
  if (!remote)
    throw new PstoreError(
      'EPSTORE_USAGE',
      `${cmd}: --${flag} REMOTE is required (or set PSTORE_REMOTE, or "remote" in the config file)`,
      {
        subject: `--${flag}`,
        hint: `see pstore ${cmd} --help`,
      },
    );
  return remote;
}

export function remoteOptionsOf(ctx: CommandContext): RemoteOptions {
  const progress = ctx.out.progress();
  const quiet = ctx.out.mode.quiet && !ctx.out.mode.json;
  return {
    plainHttp: ctx.values['plain-http'] === true,
    dryRun: ctx.values['dry-run'] === true,
    ...(progress ? { onProgress: progress } : {}),
    ...(ctx.values.verbose === true && !quiet
      ? { onRequest: (line: string) => process.stderr.write(`pstore: ${line}\n`) }
      : {}),
  };
}

/** REF... or --lock LOCKFILE (not both): what push and pull move. */
export async function refsOrLock(
  ctx: CommandContext,
  cmd: string,
): Promise<{ refs: string[]; lock?: Lockfile }> {
  if (typeof ctx.values.lock !== 'string') {
    requirePositionals(ctx.positionals, 1, Infinity, 'REF (or --lock LOCKFILE)', cmd);
    return { refs: ctx.positionals };
  }
  if (ctx.positionals.length)
    throw new PstoreError('EPSTORE_USAGE', `${cmd}: give REFs or --lock, not both`, {
      subject: '--lock',
    });
  return { refs: [], lock: await readLockfile(path.resolve(ctx.values.lock)) };
}
