import { PstoreError } from '../../lib/index.js';
import type { Command } from '../command.js';
import { existingStore, requirePositionals } from '../command.js';
import { formatBytes } from '../output.js';

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

export function parseDuration(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)?$/.exec(raw.trim());
  if (!m)
    throw new PstoreError(
      'EPSTORE_USAGE',
      `--older-than ${JSON.stringify(raw)} is not a duration (e.g. 0, 90s, 30m, 24h, 7d)`,
      { subject: '--older-than' },
    );
  return Number(m[1]) * UNITS[m[2] ?? 's']!;
}

export const gc: Command = {
  name: 'gc',
  summary:
    'remove entries and objects no prefix generation, transaction in flight or recent add refers to',
  usage: 'pstore gc [--dry-run] [--older-than DURATION] [--forget-missing]',
  help: [
    '--dry-run        report what would be removed, remove nothing',
    '--older-than D   only remove entries last added longer ago than D (default 24h; 0 = no grace)',
    '--forget-missing forget registered prefixes whose state is missing now (default: after 24 h missing;',
    '                 until then gc keeps every entry, as it cannot know what such a prefix uses)',
    '--json: {dryRun, entriesRemoved, entriesKept, prefixes, prefixesMissing, objectsRemoved, bytesFreed, tmpRemoved}',
  ],
  options: {
    'dry-run': { type: 'boolean' },
    'older-than': { type: 'string' },
    'forget-missing': { type: 'boolean' },
  },
  async run({ positionals, values, out, store }) {
    requirePositionals(positionals, 0, 0, '', 'gc');
    const older = values['older-than'];
    const r = await (
      await existingStore(store)
    ).gc({
      dryRun: values['dry-run'] === true,
      forgetMissing: values['forget-missing'] === true,
      ...(typeof older === 'string' ? { graceMs: parseDuration(older) } : {}),
    });
    for (const dir of r.prefixesMissing)
      out.note(
        `the prefix ${dir} is missing (unmounted or deleted?): every entry is kept; gc --forget-missing forgets it`,
      );
    if (r.damagedManifests.length) {
      out.note(
        `the manifests of ${r.damagedManifests.length} kept entries are damaged (${r.damagedManifests.map((id) => id.slice(0, 12)).join(', ')}): no object was swept; run pstore verify --repair, then re-add or import them`,
      );
    }
    const verb = r.dryRun ? 'would remove' : 'removed';
    out.result(
      r,
      () =>
        `${verb} ${r.entriesRemoved.length} entries, ${r.objectsRemoved} objects (${formatBytes(r.bytesFreed)}), ${r.tmpRemoved} temporary files; kept ${r.entriesKept} entries`,
    );
  },
};
