// A dry run's plan, as people read it (`--dry-run`) or as data (`--dry-run --json`). A plan with
// conflicts is printed whole, then the first conflict is raised so the exit code is the real run's.

import { PstoreError, type PlanPreview, type TxnResult } from '../lib/index.js';
import type { CommandContext } from './command.js';
import { count } from './output.js';

const fmt = (p: { name: string; version: string }) => `${p.name}@${p.version}`;

export function printPreview(ctx: CommandContext, r: TxnResult, plan: PlanPreview): void {
  ctx.out.result({ ...txnFields(r), dryRun: true, plan }, () => previewLines(r, plan));
  const first = plan.conflicts[0];
  if (first === undefined) return;
  throw new PstoreError('EPSTORE_CONFLICT', String(first.message), {
    ...(typeof first.subject === 'string' ? { subject: first.subject } : {}),
    hint:
      plan.conflicts.length > 1
        ? `dry run: ${count(plan.conflicts.length, 'conflict')} in all`
        : typeof first.hint === 'string'
          ? first.hint
          : 'dry run',
    data: { conflicts: plan.conflicts },
  });
}

function txnFields(r: TxnResult): Record<string, unknown> {
  const { plan: _plan, ...fields } = r;
  return fields;
}

function previewLines(r: TxnResult, plan: PlanPreview): string[] {
  if (r.noop) return [`${r.prefix}: dry run: nothing to do (generation ${r.generation})`];
  const f = plan.files;
  return [
    ...plan.removed.map((p) => `- ${fmt(p)}`),
    ...plan.added.map((p) => `+ ${fmt(p)}`),
    ...plan.upgraded.map((c) => `^ ${c.name} ${c.from.version} -> ${c.to.version}`),
    ...plan.downgraded.map((c) => `v ${c.name} ${c.from.version} -> ${c.to.version}`),
    ...plan.changed.map((c) => `~ ${c.name} ${c.to.version} (${c.from.id} -> ${c.to.id})`),
    `files: ${f.place} to place, ${f.replace} to replace, ${f.remove} to remove; ` +
      `directories: ${f.mkdirs} to make, ${f.rmdirs} to remove; ` +
      `markers: ${f.markersRemoved} to remove, ${f.markersPlaced} to place`,
    ...(plan.overwrite ?? []).map((f) => `overwrite: ${f} (unowned; would be taken over)`),
    ...plan.conflicts.map((c) => `conflict: ${String(c.message)}`),
    `${r.prefix}: dry run: generation ${r.generation} (now ${r.previousGeneration}); nothing changed`,
  ];
}
