import type { VerifyResult } from '../../lib/index.js';
import {
  NO_OPERANDS,
  existingStore,
  type Command,
  type CommandContext,
  LOCKING_BUILTINS,
} from '../command.js';
import { count, formatBytes } from '../output.js';
import { PREFIX_OPTION, prefixOf } from '../prefix-options.js';

export const verify: Command = {
  name: 'verify',
  builtins: LOCKING_BUILTINS,
  summary:
    'rehash every object (or, with --prefix, every owned path of a prefix); exit 4 if anything is wrong',
  usage: 'pstore verify [--repair] [--prefix DIR]',
  help: [
    '--prefix DIR     check that the prefix holds exactly its current generation (no missing or modified paths, no leftovers)',
    '--repair         remove damaged objects and manifests, so that re-adding or importing the entries restores them;',
    '                 still exit 4 when anything was wrong (run verify again after re-adding: exit 0 means clean);',
    "                 with --prefix: rebuild the prefix's ownership index from the manifests, then verify",
    '--json: {ok, entries, objects, bytes, problems: [{id, name, version, manifest, missing, corrupt}], repaired?: {objects, entries}}',
    '   with --prefix: {ok, prefix, generation, checked, missing, modified, strays, pendingTransaction, transaction, interruptedReason?,',
    '                   index: {state: ok|missing|behind|damaged|unchecked, differing}} (a damaged ownership index fails)',
    '   with --prefix it waits (up to --wait) for a running transaction, then reads one committed state',
  ],
  options: { ...PREFIX_OPTION, repair: { type: 'boolean' } },
  operands: NO_OPERANDS,
  async run(ctx) {
    const ok =
      typeof ctx.values.prefix === 'string' ? await verifyPrefix(ctx) : await verifyStore(ctx);
    return ok ? 0 : 4;
  },
};

async function verifyPrefix(ctx: CommandContext): Promise<boolean> {
  const r = await prefixOf(ctx, 'verify').verify({ repair: ctx.values.repair === true });
  ctx.out.result(r, () => [
    ...r.missing.map((p) => `missing:  ${p}`),
    ...r.modified.map((p) => `modified: ${p}`),
    ...r.strays.map((p) => `leftover: ${p}`),
    ...(r.index.state === 'damaged'
      ? [
          `ownership index damaged${r.index.differing.length ? ` at ${r.index.differing.join(', ')}` : ''}: run pstore verify --prefix DIR --repair (or any transaction) to rebuild it`,
        ]
      : []),
    ...(r.pendingTransaction
      ? [`an interrupted transaction is not recovered: ${r.interruptedReason ?? ''}`]
      : []),
    `${r.ok ? 'ok' : 'PROBLEMS FOUND'}: ${r.prefix} generation ${r.generation}, ${r.checked} paths checked`,
  ]);
  return r.ok;
}

async function verifyStore({ out, store, values }: CommandContext): Promise<boolean> {
  const progress = out.progress();
  const r = await (
    await existingStore(store)
  ).verify({
    ...(progress ? { onProgress: progress } : {}),
    ...(values.repair === true ? { repair: true } : {}),
  });
  out.result(r, () => [
    ...r.problems.flatMap((p) => [
      `${p.name}@${p.version} (${p.id.slice(0, 12)}):${p.manifest === 'ok' ? '' : ` manifest ${p.manifest}`}`,
      ...p.missing.map((f) => `  missing: ${f}`),
      ...p.corrupt.map((f) => `  corrupt: ${f}`),
    ]),
    `${r.ok ? 'ok' : 'PROBLEMS FOUND'}: ${r.entries} entries, ${r.objects} objects, ${formatBytes(r.bytes)} checked`,
    ...repairedLines(r.repaired),
  ]);
  return r.ok;
}

function repairedLines(repaired: VerifyResult['repaired']): string[] {
  if (!repaired) return [];
  const entries = repaired.entries.map((e) => `${e.name}@${e.version}`);
  return [
    `repaired: removed ${count(repaired.objects.length, 'damaged object')} and ${count(entries.length, 'damaged manifest')}${entries.length ? ` (${entries.join(', ')})` : ''}`,
    ...(repaired.objects.length || entries.length
      ? ['re-add or import the entries named above to restore what they lost']
      : []),
  ];
}
