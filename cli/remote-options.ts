// Options shared by the commands that talk to an OCI remote (push, pull, sync --from).

import path from 'node:path';
import {
  defaultRemote,
  PstoreError,
  readLockfile,
  type Lockfile,
  type RemoteOptions,
  type RemoteTransferOptions,
} from '../lib/index.js';
import { requirePositionals, type CommandContext } from './command.js';

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

/** push's and pull's options: the remote flag, --lock, --dry-run and the remote options */
export function transferOptions(flag: 'to' | 'from') {
  return {
    [flag]: { type: 'string' as const },
    lock: { type: 'string' as const },
    'dry-run': { type: 'boolean' as const },
    ...REMOTE_OPTIONS,
  };
}

/** What push and pull were asked: the remote, REFs (or none with --lock), and the options. */
export async function transferRequest(
  ctx: CommandContext,
  flag: 'to' | 'from',
  cmd: string,
): Promise<{ remote: string; refs: string[]; opts: RemoteTransferOptions }> {
  const remote = await requiredRemote(ctx, flag, cmd);
  const { refs, lock } = await refsOrLock(ctx, cmd);
  return { remote, refs, opts: { ...remoteOptionsOf(ctx), ...(lock ? { lock } : {}) } };
}

/** `<verb|present>  NAME@VERSION  <id[0:12]>` per entry. */
export function entryLines(
  entries: ReadonlyArray<{ id: string; name: string; version: string }>,
  moved: (i: number) => boolean,
  verb: string,
): string[] {
  return entries.map(
    (e, i) => `${moved(i) ? verb : 'present'}  ${e.name}@${e.version}  ${e.id.slice(0, 12)}`,
  );
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
