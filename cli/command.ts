// The shape of a CLI command, and the parsing every command shares: global options (--store,
// --json, --quiet, --wait, --help) are accepted before or after the command name.

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { PstoreError, openStore, type Store } from '../lib/index.js';
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
  run(ctx: CommandContext): Promise<number | void>;
}

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

export function parseCommandArgs(cmd: Command, args: string[]): { values: CommandContext['values']; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args, options: { ...GLOBAL_OPTIONS, ...cmd.options }, allowPositionals: true, strict: true });
    return { values: values as CommandContext['values'], positionals };
  } catch (err) {
    const flag = /'([^']+)'/.exec((err as Error).message)?.[1];
    throw new PstoreError('EPSTORE_USAGE', `${cmd.name}: ${(err as Error).message}`, { subject: flag ?? cmd.name, hint: `see pstore ${cmd.name} --help` });
  }
}

export function makeStoreFactory(values: CommandContext['values'], out: Output): () => Store {
  const wait = values.wait;
  let waitSeconds: number | undefined;
  if (values.store === '') throw new PstoreError('EPSTORE_USAGE', '--store needs a directory', { subject: '--store' });
  if (typeof wait === 'string') {
    waitSeconds = Number(wait);
    if (wait.trim() === '' || !Number.isFinite(waitSeconds) || waitSeconds < 0) {
      throw new PstoreError('EPSTORE_USAGE', `--wait ${JSON.stringify(wait)} is not a number of seconds`, { subject: '--wait' });
    }
  }
  let store: Store | undefined;
  return () => (store ??= openStore({
    ...(typeof values.store === 'string' ? { path: values.store } : {}),
    ...(waitSeconds === undefined ? {} : { waitSeconds }),
    onWait: (what) => out.note(what),
  }));
}

export function requireString(values: CommandContext['values'], flag: string, cmd: string): string {
  const v = values[flag];
  if (typeof v !== 'string' || v === '') {
    throw new PstoreError('EPSTORE_USAGE', `${cmd}: --${flag} is required`, { subject: `--${flag}`, hint: `see pstore ${cmd} --help` });
  }
  return v;
}

export function requirePositionals(positionals: string[], min: number, max: number, what: string, cmd: string): void {
  if (positionals.length < min) {
    throw new PstoreError('EPSTORE_USAGE', `${cmd}: missing ${what}`, { subject: cmd, hint: `see pstore ${cmd} --help` });
  }
  if (positionals.length > max) {
    throw new PstoreError('EPSTORE_USAGE', `${cmd}: unexpected argument ${JSON.stringify(positionals[max])}`, { subject: positionals[max]!, hint: `see pstore ${cmd} --help` });
  }
}
