// The human answer of `gc --why REF`: what keeps an entry, one reason a line.

import type { GcWhy, PrefixHold } from '../../lib/index.js';

export function whyLines(w: GcWhy): string[] {
  const entry = `${w.name}@${w.version} (${w.id.slice(0, 12)})`;
  const reasons = [
    ...w.prefixes.map(holdLine),
    ...w.missingPrefixes.map(
      (dir) => `the prefix ${dir} is missing: gc keeps every entry until it is found or forgotten`,
    ),
    ...(w.withinGrace
      ? [`the grace period: last added ${w.lastAddedAt}, within ${hours(w.graceMs)}`]
      : []),
  ];
  if (!reasons.length)
    return [`${entry} is kept by nothing: gc would remove it (last added ${w.lastAddedAt})`];
  return [`${entry} is kept by:`, ...reasons.map((r) => `  ${r}`)];
}

function holdLine(h: PrefixHold): string {
  const gens = h.generations.length
    ? `generation${h.generations.length === 1 ? '' : 's'} ${h.generations.join(', ')}${h.current ? ', active now' : ''}`
    : '';
  const txn = h.transaction ? 'a transaction in progress' : '';
  return `${h.prefix}: ${[gens, txn].filter(Boolean).join('; ')}`;
}

function hours(ms: number): string {
  return ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${ms / 1000}s`;
}
