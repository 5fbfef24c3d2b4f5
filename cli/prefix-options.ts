// Options shared by the commands that work on a prefix.

import {
  DEFAULT_WAIT_SECONDS,
  PstoreError,
  askPrefixWriter,
  syncNoopResult,
  type LayoutKind,
  type Lockfile,
  type LinkMode,
  type Prefix,
  type ProgressListener,
  type TxnOptions,
  type TxnResult,
  type WriterChange,
} from '../lib/index.js';
import { requireString, type CommandContext } from './command.js';
import { printPreview } from './preview.js';

export const PREFIX_OPTION = { prefix: { type: 'string' as const } };
export const TXN_OPTIONS = {
  ...PREFIX_OPTION,
  layout: { type: 'string' as const },
  link: { type: 'string' as const },
  'dry-run': { type: 'boolean' as const },
  verbose: { type: 'boolean' as const, short: 'v' },
  'no-group': { type: 'boolean' as const },
};
/** `activate` and `sync`: take over unowned files matching a glob (pacman's --overwrite). */
const OVERWRITE_OPTION = { overwrite: { type: 'string' as const, multiple: true } };
const OVERWRITE_HELP = [
  '--overwrite GLOB take over unowned files and symlinks at matching prefix-relative paths instead of',
  '                 refusing (repeatable; as pacman: * crosses /, !GLOB excludes, the last match decides);',
  '                 owned paths and directories still conflict; rollback puts back what was taken over.',
  '                 --json adds overwritten:[PATH] (and plan.overwrite with --dry-run)',
];
/** `activate` and `sync`: rehash every object to link (else sizes only: SPEC.md §Check). */
const VERIFY_OPTION = { verify: { type: 'boolean' as const } };
const VERIFY_HELP =
  '--verify         rehash every object to link first (else sizes are checked); exit 4 if one is damaged';

export const PREFIX_HELP = '--prefix DIR     the prefix (required)';
export const TXN_HELP = [
  PREFIX_HELP,
  '--layout L       inplace (default: DIR is a real directory) or generations (DIR is a symlink to a tree); for a new prefix',
  '--link M         auto (default: hardlink, else reflink, else copy), hardlink, reflink or copy',
  '--dry-run        print the plan (packages, file counts, every conflict) and change nothing; exit as the',
  '                 real run would (3 on a conflict); --json adds plan:{added,removed,upgraded,downgraded,',
  '                 changed,files:{place,replace,remove,mkdirs,rmdirs,markersRemoved,markersPlaced},conflicts}',
  '--verbose, -v    print each step (lock, recover, plan, check, journal, apply phases, commit, unlock)',
  '                 with its time in ms on stderr',
  '--no-group       run this transaction here even while another pstore process writes the prefix',
  '                 (default: an activate or deactivate that waits is run by that process, --json',
  '                 then adds grouped:true), and serve no waiting one; also PSTORE_NO_GROUP=1',
];

/** The options of the transactions that place packages (activate, sync). */
export const PLACING_OPTIONS = { ...TXN_OPTIONS, ...VERIFY_OPTION, ...OVERWRITE_OPTION };

/** Their --help: the transaction's options, --verify, the command's `own` lines, --overwrite. */
export function placingHelp(own: readonly string[]): string[] {
  return [...TXN_HELP, VERIFY_HELP, ...own, ...OVERWRITE_HELP];
}

function oneOf<T extends string>(
  values: CommandContext['values'],
  flag: string,
  allowed: readonly T[],
): T | undefined {
  const v = values[flag];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !allowed.includes(v as T)) {
    throw new PstoreError(
      'EPSTORE_USAGE',
      `--${flag} must be one of ${allowed.join(', ')}, not ${JSON.stringify(v)}`,
      { subject: `--${flag}` },
    );
  }
  return v as T;
}

/** A whole number from the command line (`diff GEN`, `rollback --to GEN`, `prune --keep N`). */
export function wholeNumber(
  arg: string,
  message: string,
  details: { subject: string; hint?: string },
): number {
  if (!/^\d+$/.test(arg)) throw new PstoreError('EPSTORE_USAGE', message, details);
  return Number(arg);
}

/** --prefix (required) and --layout, checked. */
function prefixArgs(ctx: CommandContext, cmd: string): { dir: string; layout?: LayoutKind } {
  const dir = requireString(ctx.values, 'prefix', cmd);
  const layout = oneOf<LayoutKind>(ctx.values, 'layout', ['inplace', 'generations']);
  return { dir, ...(layout ? { layout } : {}) };
}

export function prefixOf(ctx: CommandContext, cmd: string): Prefix {
  const { dir, ...layout } = prefixArgs(ctx, cmd);
  return ctx.store().prefix(dir, layout);
}

const linkOf = (values: CommandContext['values']) =>
  oneOf<LinkMode>(values, 'link', ['auto', 'hardlink', 'reflink', 'copy']);

function txnOptionsOf(ctx: CommandContext): TxnOptions {
  const link = linkOf(ctx.values);
  const progress = withSteps(ctx, ctx.out.progress());
  const verify = ctx.values.verify === true;
  const overwrite = ctx.values.overwrite as string[] | undefined;
  return {
    ...(overwrite?.length ? { overwrite } : {}),
    ...(ctx.values['dry-run'] === true ? { dryRun: true } : {}),
    ...(link ? { link } : {}),
    ...(progress ? { onProgress: progress } : {}),
    ...(verify ? { verify } : {}),
    ...(ctx.values['no-group'] === true ? { group: false } : {}),
    command: commandLine(process.argv.slice(2)),
  };
}

/** With --verbose, transaction steps (events with `ms`) become stderr lines; the rest is progress. */
function withSteps(
  ctx: CommandContext,
  progress: ProgressListener | undefined,
): ProgressListener | undefined {
  if (ctx.values.verbose !== true) return progress;
  return (e) => {
    if (e.ms === undefined) progress?.(e);
    else ctx.out.verbose(`${e.phase} ${e.ms.toFixed(1)} ms`);
  };
}

const UNRECORDED_FLAGS = new Set(['--json', '--quiet', '-q', '--no-group']);
const UNRECORDED_WITH_VALUE = new Set(['--store', '--wait']);

/**
 * The command line as `generations` shows it: what the user asked for, without the options that
 * only say where and how to print or wait (the store is the prefix's own; --json, --quiet, --wait,
 * --no-group).
 */
export function commandLine(argv: readonly string[]): string {
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const flag = arg.split('=')[0]!;
    if (UNRECORDED_FLAGS.has(arg) || UNRECORDED_WITH_VALUE.has(flag)) {
      if (UNRECORDED_WITH_VALUE.has(arg)) i++;
      continue;
    }
    kept.push(/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);
  }
  return ['pstore', ...kept].join(' ');
}

/**
 * `activate`, `deactivate`: have the prefix's writer of the moment run `change` and print its
 * result, before the library is loaded (askPrefixWriter, SPEC.md §Group commit); false when it
 * did not, and the command runs the transaction itself.
 */
export async function servedByWriter(
  ctx: CommandContext,
  cmd: string,
  change: WriterChange,
): Promise<boolean> {
  const { dir, ...layout } = prefixArgs(ctx, cmd);
  const wait = ctx.values.wait;
  const started = Date.now();
  const result = await askPrefixWriter(dir, change, {
    ...txnOptionsOf(ctx),
    ...layout,
    ...(typeof ctx.values.store === 'string' ? { store: ctx.values.store } : {}),
    ...(typeof wait === 'string' ? { waitSeconds: Number(wait) } : {}),
    onWait: (what) => ctx.out.note(what),
  });
  if (result) printTxn(ctx, result);
  // Not served: the transaction of our own waits only what is left of --wait (given or default),
  // not a fresh one.
  else {
    const total = typeof wait === 'string' ? Number(wait) : DEFAULT_WAIT_SECONDS;
    ctx.values.wait = String(Math.max(0, total - (Date.now() - started) / 1000));
  }
  return result !== undefined;
}

/**
 * `sync`: print the no-op result of a prefix that holds `lock` already, read without its lock and
 * before the library is loaded (syncNoopResult, SPEC.md §Sync without the lock); false when the
 * transaction must run. Not tried with --dry-run (a preview), --verbose (its steps) or --overwrite
 * (its globs are checked first).
 */
export async function heldAlready(ctx: CommandContext, lock: Lockfile): Promise<boolean> {
  const v = ctx.values;
  if (v['dry-run'] === true || v.verbose === true || v.overwrite !== undefined) return false;
  const { dir, ...layout } = prefixArgs(ctx, 'sync');
  const link = linkOf(v);
  const store = typeof v.store === 'string' ? { store: v.store } : {};
  const result = await syncNoopResult(dir, lock, {
    ...layout,
    ...store,
    ...(link ? { link } : {}),
  });
  if (result) printTxn(ctx, result);
  return result !== undefined;
}

/** Run a transaction on --prefix with the transaction options given, and print its result. */
export async function runTxn(
  ctx: CommandContext,
  cmd: string,
  txn: (prefix: Prefix, opts: TxnOptions) => Promise<TxnResult>,
): Promise<void> {
  printTxn(ctx, await txn(prefixOf(ctx, cmd), txnOptionsOf(ctx)));
}

const fmt = (p: { name: string; version: string }) => `${p.name}@${p.version}`;

function printTxn(ctx: CommandContext, r: TxnResult): void {
  if (r.plan) return printPreview(ctx, r, r.plan);
  ctx.out.result(
    {
      prefix: r.prefix,
      layout: r.layout,
      generation: r.generation,
      previousGeneration: r.previousGeneration,
      activated: r.activated,
      deactivated: r.deactivated,
      noop: r.noop,
      link: r.link,
      ...(r.overwritten ? { overwritten: r.overwritten } : {}),
      ...(r.restored ? { restored: r.restored } : {}),
      ...(r.grouped ? { grouped: true } : {}),
    },
    () =>
      r.noop
        ? `${r.prefix}: nothing to do (generation ${r.generation})`
        : [
            ...r.deactivated.map((p) => `- ${fmt(p)}`),
            ...r.activated.map((p) => `+ ${fmt(p)}`),
            ...(r.overwritten ?? []).map((f) => `overwrote ${f} (kept for rollback)`),
            ...(r.restored ?? []).map((f) => `restored ${f}`),
            `${r.prefix}: generation ${r.generation} (was ${r.previousGeneration})`,
          ],
  );
}
