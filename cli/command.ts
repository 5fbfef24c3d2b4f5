// The shape of a CLI command, and the parsing every command shares: global options (--store,
// --json, --quiet, --wait, --help) are accepted before or after the command name.

import { statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { PstoreError } from '../lib/errors.js';
import type { Store, StoreOptions } from '../lib/index.js';
import { Output } from './output.js';

type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

export interface CommandContext {
  positionals: string[];
  values: Record<string, string | boolean | string[] | undefined>;
  out: Output;
  store: () => Store;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** option lines for --help, beyond the global ones */
  help: string[];
  options: OptionSpecs;
  /** the operands it takes, checked before `run` (a command that checks its own leaves it out) */
  operands?: Operands;
  run(ctx: CommandContext): Promise<number | void>;
  /**
   * tried before `run`, before the library is loaded: true when another process did the work
   * and printed its result (a writer served by the prefix's writer, SPEC.md §Group commit)
   */
  served?(ctx: CommandContext): Promise<boolean>;
  /**
   * the command reads a few small files and calls no store handle (status): main.ts loads no
   * store code for it and sets no heap flag, and the bundle gives it a file of its own
   * (scripts/bundle-cli.mjs, SPEC.md §Dependencies and cost model)
   */
  light?: boolean;
  /**
   * Node built-ins the command loads as it works, loaded before the heap limit's V8 flag is set
   * (lib/core/heap-growth.ts `limitHeapGrowth`: after it they compile from source)
   */
  builtins?: readonly string[];
}

/** How many operands (positional arguments) a command takes; `what` names a missing one. */
export interface Operands {
  min: number;
  max: number;
  what: string;
}

/**
 * The built-ins a command that takes the store's lock (its listening socket loads node:cluster) or
 * flushes through a helper process (node:child_process) loads: see `Command.builtins`.
 */
export const LOCKING_BUILTINS: readonly string[] = ['node:child_process', 'node:cluster'];

export const NO_OPERANDS: Operands = { min: 0, max: 0, what: '' };
export const oneOperand = (what: string): Operands => ({ min: 1, max: 1, what });
export const someOperands = (what: string): Operands => ({ min: 1, max: Infinity, what });

export const GLOBAL_OPTIONS: OptionSpecs = {
  store: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  wait: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

export const GLOBAL_HELP = [
  '--store DIR      the store (default $PSTORE_STORE, else $XDG_DATA_HOME/pstore)',
  '--json           print the result as JSON (errors as {"error":{...}} on stderr)',
  '--quiet, -q      print nothing on success',
  '--wait SECONDS   how long to wait for a busy store or prefix (default 600)',
  '--help, -h       show help',
];

/** Find the command name: the first token that is neither a global option nor its value. */
export function splitCommand(argv: string[]): { name: string | undefined; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i]!;
    if (tok === '--') break;
    if (tok.startsWith('-')) {
      const bare = tok.replace(/^--?/, '');
      const spec = GLOBAL_OPTIONS[bare];
      if (spec?.type === 'string' && !tok.includes('=')) i++;
      continue;
    }
    return { name: tok, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return { name: undefined, rest: argv };
}

export function parseCommandArgs(
  cmd: Command,
  args: string[],
): { values: CommandContext['values']; positionals: string[] } {
  const options = { ...GLOBAL_OPTIONS, ...cmd.options };
  // Parsed leniently, then checked token by token here: pstore's own words for every mistake, never
  // Node's parser text, and a suggestion for a misspelt option.
  const { values, positionals, tokens } = parseArgs({
    args,
    options,
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  for (const tok of tokens) {
    if (tok.kind !== 'option') continue;
    const spec = options[tok.name];
    if (!spec) {
      const guess = closest(tok.name, Object.keys(options));
      throw usage(
        cmd,
        `unknown option ${tok.rawName}`,
        tok.rawName,
        guess === undefined ? undefined : `did you mean --${guess}?`,
      );
    }
    if (spec.type === 'string' && tok.value === undefined)
      throw usage(cmd, `${tok.rawName} needs a value`, tok.rawName);
    if (spec.type === 'boolean' && tok.inlineValue)
      throw usage(cmd, `${tok.rawName} takes no value`, tok.rawName);
  }
  return { values: values as CommandContext['values'], positionals };
}

function usage(cmd: Command, message: string, subject: string, hint?: string): PstoreError {
  return new PstoreError('EPSTORE_USAGE', `${cmd.name}: ${message}`, {
    subject,
    hint: hint ?? `see pstore ${cmd.name} --help`,
  });
}

/** The candidate nearest to `word` (edit distance ≤ 2, or a unique prefix), for "did you mean". */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const prefixed = candidates.filter((c) => word.length >= 2 && c.startsWith(word));
  if (prefixed.length === 1) return prefixed[0];
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(
        row[j]! + 1,
        next[j - 1]! + 1,
        row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    row = next;
  }
  return row[b.length]!;
}

/** `openStore` comes in from the caller, which loads the library only when a command runs. */
export function makeStoreFactory(
  values: CommandContext['values'],
  out: Output,
  openStore: (opts: StoreOptions) => Store,
): () => Store {
  const wait = values.wait;
  if (values.store === '')
    throw new PstoreError('EPSTORE_USAGE', '--store needs a directory', { subject: '--store' });
  if (typeof wait === 'string') {
    const waitSeconds = Number(wait);
    if (wait.trim() === '' || !Number.isFinite(waitSeconds) || waitSeconds < 0) {
      throw new PstoreError(
        'EPSTORE_USAGE',
        `--wait ${JSON.stringify(wait)} is not a number of seconds`,
        { subject: '--wait' },
      );
    }
  }
  let store: Store | undefined;
  // --wait is read again when the store opens: a writer that asked the holder first and was not
  // served waits only what is left of it (servedByWriter).
  return () =>
    (store ??= openStore({
      ...(typeof values.store === 'string' ? { path: values.store } : {}),
      ...(typeof values.wait === 'string' ? { waitSeconds: Number(values.wait) } : {}),
      onWait: (what) => out.note(what),
    }));
}

/**
 * The store for a command that only reads it: a store that does not exist is `EPSTORE_NOT_FOUND`,
 * never an empty answer (a mistyped --store must not make `verify` in CI say "ok: 0 entries").
 */
export async function existingStore(store: () => Store): Promise<Store> {
  const s = store();
  if (!(await s.exists()))
    throw new PstoreError('EPSTORE_NOT_FOUND', `no store at ${s.root}`, {
      subject: s.root,
      hint: 'check --store or $PSTORE_STORE; pstore add creates a store',
    });
  return s;
}

export function requireString(values: CommandContext['values'], flag: string, cmd: string): string {
  const v = values[flag];
  if (typeof v !== 'string' || v === '') {
    throw new PstoreError('EPSTORE_USAGE', `${cmd}: --${flag} is required`, {
      subject: `--${flag}`,
      hint: `see pstore ${cmd} --help`,
    });
  }
  return v;
}

/**
 * The absolute path `-o` names, once it can take a new file: its directory exists (else
 * EPSTORE_NOT_FOUND naming that directory) and it is not a directory itself (EPSTORE_INVALID).
 * Checked before any work, so a mistyped path costs nothing and leaves nothing behind.
 */
export function outputPath(given: string): string {
  const file = path.resolve(given);
  const dir = path.dirname(file);
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory())
    throw new PstoreError('EPSTORE_NOT_FOUND', `${dir} is not an existing directory (-o ${file})`, {
      subject: dir,
      hint: 'check -o',
    });
  if (statSync(file, { throwIfNoEntry: false })?.isDirectory())
    throw new PstoreError('EPSTORE_INVALID', `${file} is a directory; -o names the file to write`, {
      subject: file,
      hint: 'check -o',
    });
  return file;
}

/** Refuse `positionals` that do not fit what `cmd` declares (EPSTORE_USAGE naming the first extra). */
export function checkOperands(cmd: Command, positionals: string[]): void {
  const o = cmd.operands;
  if (o) requirePositionals(positionals, o.min, o.max, o.what, cmd.name);
}

export function requirePositionals(
  positionals: string[],
  min: number,
  max: number,
  what: string,
  cmd: string,
): void {
  if (positionals.length < min) {
    throw new PstoreError('EPSTORE_USAGE', `${cmd}: missing ${what}`, {
      subject: cmd,
      hint: `see pstore ${cmd} --help`,
    });
  }
  if (positionals.length > max) {
    throw new PstoreError(
      'EPSTORE_USAGE',
      `${cmd}: unexpected argument ${JSON.stringify(positionals[max])}`,
      { subject: positionals[max]!, hint: `see pstore ${cmd} --help` },
    );
  }
}
