import { serializeLockfile, writeLockfile } from '../../lib/index.js';
import { NO_OPERANDS, outputPath, type Command } from '../command.js';
import { PREFIX_HELP, PREFIX_OPTION, prefixOf } from '../prefix-options.js';

export const lock: Command = {
  name: 'lock',
  summary: "write a prefix's active set as a lockfile (stable, sorted JSON)",
  usage: 'pstore lock --prefix DIR [-o FILE]',
  help: [
    PREFIX_HELP,
    '-o, --output F   write the lockfile to F (atomically) instead of stdout',
    'format: {"lockfileVersion": 1, "packages": {NAME: {"version", "id", "integrity"}}}',
    '--json with -o: {file, packages}',
  ],
  options: { ...PREFIX_OPTION, output: { type: 'string', short: 'o' } },
  operands: NO_OPERANDS,
  async run(ctx) {
    const out = ctx.values.output;
    const file = typeof out === 'string' ? outputPath(out) : undefined;
    const lockfile = await prefixOf(ctx, 'lock').lock();
    const text = serializeLockfile(lockfile);
    if (file === undefined) {
      if (!ctx.out.mode.quiet || ctx.out.mode.json) process.stdout.write(text);
      return;
    }
    await writeLockfile(file, lockfile);
    ctx.out.result({ file, packages: Object.keys(lockfile.packages).length }, () => []);
  },
};
