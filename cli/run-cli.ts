// What both CLI entries run (main.ts: every command; light.ts: `status` alone, as CommonJS): find
// the command, parse its options, run it, and map errors to exit codes (lib/ throws typed
// PstoreErrors; cli/exit-codes.ts holds the one table, SPEC.md §Exit codes); and the process's
// wiring (a closed pipe, a stalled run, the exit code).

import { readFileSync } from 'node:fs';
import { PstoreError } from '../lib/errors.js';
import { asCliError } from './errors.js';
import { exitCodeOf } from './exit-codes.js';
import {
  GLOBAL_HELP,
  GLOBAL_OPTIONS,
  checkOperands,
  closest,
  makeStoreFactory,
  parseCommandArgs,
  splitCommand,
  type Command,
} from './command.js';
import { Output } from './output.js';
import type * as OpenStoreBinding from './open-store.js';

/** The commands an entry knows, and how it loads the library for a command that is not light. */
export interface CommandTable {
  commands: Record<string, () => Promise<Command>>;
  aliases: Record<string, string>;
  /** the library binding (open-store.js); an entry of light commands alone has none */
  library?: () => Promise<typeof OpenStoreBinding>;
  /**
   * An entry without the library whose commands may be served (ask.ts): where a command line goes
   * that the prefix's writer did not serve, with what is left of its --wait (seconds).
   */
  notServed?: (argv: string[], waitLeft: string | undefined) => Promise<number>;
  /** notServed's receiver: the command line asked already; it waits `waitLeft` s at most */
  asked?: { waitLeft: string | undefined };
}

type OpenStore = typeof OpenStoreBinding.openStore;

function findCommand(t: CommandTable, name: string): () => Promise<Command> {
  const load = t.commands[t.aliases[name] ?? name];
  if (load) return load;
  const guess = closest(name, [...Object.keys(t.commands), ...Object.keys(t.aliases)]);
  throw new PstoreError('EPSTORE_USAGE', `unknown command ${JSON.stringify(name)}`, {
    subject: name,
    hint: guess === undefined ? 'see pstore --help' : `did you mean ${guess}?`,
  });
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

async function mainHelp(t: CommandTable): Promise<string> {
  const rows = await Promise.all(
    Object.values(t.commands).map(async (load) => {
      const c = await load();
      return `  ${c.name.padEnd(12)} ${c.summary}`;
    }),
  );
  return [
    'usage: pstore COMMAND [options]',
    '',
    'commands:',
    ...rows,
    '',
    'aliases: install = activate, remove = uninstall = deactivate, list = ls, stats = du',
    '',
    'global options (before or after the command):',
    ...GLOBAL_HELP.map((l) => `  ${l}`),
    '',
    'exit codes: 0 ok, 1 internal error (a bug), 2 usage, 3 conflict, 4 integrity, 5 busy, 6 not found,',
    '            7 invalid input, 8 remote registry, 9 the environment refused (no space, permission, read-only, I/O error)',
    "run 'pstore COMMAND --help' for a command's options",
  ].join('\n');
}

function commandHelp(c: Command): string {
  return [
    `usage: ${c.usage}`,
    '',
    c.summary,
    '',
    ...c.help.map((l) => `  ${l}`),
    '',
    'global options:',
    ...GLOBAL_HELP.map((l) => `  ${l}`),
  ].join('\n');
}

/**
 * A global option that takes a value given last, with none (`pstore --store`): said so, naming it,
 * rather than the usage a missing command gets.
 */
function refuseValueless(rest: readonly string[]): void {
  const last = rest.at(-1);
  const spec = last?.startsWith('--') ? GLOBAL_OPTIONS[last.slice(2)] : undefined;
  if (spec?.type === 'string')
    throw new PstoreError('EPSTORE_USAGE', `${last} needs a value`, {
      subject: last,
      hint: 'see pstore --help',
    });
}

export async function runCli(argv: string[], t: CommandTable): Promise<number> {
  const { name, rest } = splitCommand(argv);
  const out = new Output({
    json: rest.includes('--json'),
    quiet: rest.includes('--quiet') || rest.includes('-q'),
  });
  try {
    if (name === undefined) refuseValueless(rest);
    if (name === undefined || name === 'help') {
      if (rest.includes('--version')) {
        process.stdout.write(`${packageVersion()}\n`);
        return 0;
      }
      const target = name === 'help' ? rest.find((a) => !a.startsWith('-')) : undefined;
      const load = target === undefined ? undefined : t.commands[t.aliases[target] ?? target];
      process.stdout.write(`${load ? commandHelp(await load()) : await mainHelp(t)}\n`);
      return name === undefined && !rest.includes('--help') && !rest.includes('-h') ? 2 : 0;
    }
    const cmd = await findCommand(t, name)();
    const { values, positionals } = parseCommandArgs(cmd, rest);
    if (values.help) {
      process.stdout.write(`${commandHelp(cmd)}\n`);
      return 0;
    }
    const lib: { openStore?: OpenStore } = {};
    const store = makeStoreFactory(values, out, (opts) => lib.openStore!(opts));
    checkOperands(cmd, positionals);
    const ctx = { positionals, values, out, store };
    if (t.asked) {
      if (t.asked.waitLeft !== undefined) values.wait = t.asked.waitLeft;
    } else if (await cmd.served?.(ctx)) return 0;
    // Not served: servedByWriter left what is left of --wait in values.wait.
    const waitLeft = typeof values.wait === 'string' ? values.wait : undefined;
    if (!cmd.light && !t.library && t.notServed) return await t.notServed(argv, waitLeft);
    // The library: not for --help, --version, a request another process served nor a light
    // command; then the heap limit, before any work (lib/core/heap-growth.ts says why).
    if (!cmd.light) {
      if (!t.library) throw new PstoreError('EPSTORE_INTERNAL', `${cmd.name} needs the library`);
      const binding = await t.library();
      lib.openStore = binding.openStore;
      await binding.limitHeapGrowth(cmd.builtins);
    }
    const code = await cmd.run(ctx);
    return code ?? 0;
  } catch (err) {
    const e = asCliError(err);
    out.error(e);
    if (e.code === 'EPSTORE_INTERNAL' && process.env.PSTORE_DEBUG) console.error(err);
    return exitCodeOf(e.code);
  }
}

/** Run the command line with this process's wiring: the entries' one top-level statement. */
export function startCli(t: CommandTable): void {
  // Hashing and linking many small files is syscall-bound: more libuv threads than its default 4.
  process.env.UV_THREADPOOL_SIZE ??= '16';
  // A reader that stops early (`pstore info X --paths | head -1`) closes our stdout: end quietly
  // with success, as `ls | head` does, instead of dying on an unhandled EPIPE.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  // If the event loop ever drains while runCli() is still pending, something waited on a promise
  // that can no longer settle: that must never look like success.
  let finished = false;
  process.exitCode = 1;
  process.on('beforeExit', () => {
    if (!finished)
      process.stderr.write(
        'pstore: EPSTORE_INTERNAL: the operation stalled before finishing; nothing was committed\n',
      );
  });
  runCli(process.argv.slice(2), t).then(
    (code) => {
      finished = true;
      process.exitCode = code;
    },
    (err: unknown) => {
      finished = true;
      console.error(err);
      process.exitCode = 1;
    },
  );
}
