import type { Command } from '../command.js';
import { requirePositionals } from '../command.js';
import { formatBytes } from '../output.js';
import { prefixOf } from '../prefix-options.js';

export const verify: Command = {
  name: 'verify',
  summary: 'rehash every object (or, with --prefix, every owned path of a prefix); exit 4 if anything is wrong',
  usage: 'pstore verify [--prefix DIR]',
  help: [
    '--prefix DIR     check that the prefix holds exactly its current generation (no missing or modified paths, no leftovers)',
    '--json: {ok, entries, objects, bytes, problems: [{id, name, version, manifest, missing, corrupt}]}',
    '   with --prefix: {ok, prefix, generation, checked, missing, modified, strays, pendingTransaction, transaction, interruptedReason?}',
    '   with --prefix it waits (up to --wait) for a running transaction, then reads one committed state',
  ],
  options: { prefix: { type: 'string' } },
  async run(ctx) {
    const { positionals, out, store, values } = ctx;
    requirePositionals(positionals, 0, 0, '', 'verify');
    if (typeof values.prefix === 'string') {
      const r = await prefixOf(ctx, 'verify').verify();
      out.result(r, () => [
        ...r.missing.map((p) => `missing:  ${p}`),
        ...r.modified.map((p) => `modified: ${p}`),
        ...r.strays.map((p) => `leftover: ${p}`),
        ...(r.pendingTransaction ? [`an interrupted transaction is not recovered: ${r.interruptedReason ?? ''}`] : []),
        `${r.ok ? 'ok' : 'PROBLEMS FOUND'}: ${r.prefix} generation ${r.generation}, ${r.checked} paths checked`,
      ]);
      return r.ok ? 0 : 4;
    }
    const progress = out.progress();
    const r = await store().verify(progress ? { onProgress: progress } : {});
    out.result(r, () => [
      ...r.problems.flatMap((p) => [
        `${p.name}@${p.version} (${p.id.slice(0, 12)}):${p.manifest === 'ok' ? '' : ` manifest ${p.manifest}`}`,
        ...p.missing.map((f) => `  missing: ${f}`),
        ...p.corrupt.map((f) => `  corrupt: ${f}`),
      ]),
      `${r.ok ? 'ok' : 'PROBLEMS FOUND'}: ${r.entries} entries, ${r.objects} objects, ${formatBytes(r.bytes)} checked`,
    ]);
    return r.ok ? 0 : 4;
  },
};
