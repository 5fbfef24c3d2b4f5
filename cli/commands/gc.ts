import { PstoreError, compareVersions, type GcResult } from '../../lib/index.js';
import type { Command } from '../command.js';
import { NO_OPERANDS, existingStore, LOCKING_BUILTINS } from '../command.js';
import { formatBytes, table } from '../output.js';
import { whyLines } from './gc-why.js';

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
  builtins: LOCKING_BUILTINS,
  summary:
    'remove entries and objects no prefix generation, transaction in flight or recent add refers to',
  usage: 'pstore gc [--dry-run] [--older-than DURATION] [--forget-missing] | pstore gc --why REF',
  help: [
    '--dry-run        report what would be removed (each NAME@VERSION), remove nothing',
    '--older-than D   only remove entries last added longer ago than D (default 24h; 0 = no grace)',
    '--forget-missing forget registered prefixes whose state is missing now (default: after 24 h missing;',
    '                 until then gc keeps every entry, as it cannot know what such a prefix uses)',
    '--why REF        say what keeps the entry: prefixes and their generations, a transaction, a missing',
    '                 prefix, the grace period (with --older-than), or nothing (gc would remove it); changes nothing',
    '--json: {dryRun, entriesRemoved: [{id, name, version}], entriesKept, prefixes, prefixesMissing, objectsRemoved, bytesFreed, tmpRemoved}',
    '   with --why: {id, name, version, kept, prefixes: [{prefix, generations, current, transaction}],',
    '   missingPrefixes, lastAddedAt, graceMs, withinGrace}',
  ],
  options: {
    'dry-run': { type: 'boolean' },
    'older-than': { type: 'string' },
    'forget-missing': { type: 'boolean' },
    why: { type: 'string' },
  },
  operands: NO_OPERANDS,
  async run({ values, out, store }) {
    const older = values['older-than'];
    const grace = typeof older === 'string' ? { graceMs: parseDuration(older) } : {};
    const s = await existingStore(store);
    if (typeof values.why === 'string') {
      const why = await s.whyKept(values.why, grace);
      out.result(why, () => whyLines(why));
      return;
    }
    const r = await s.gc({
      dryRun: values['dry-run'] === true,
      forgetMissing: values['forget-missing'] === true,
      ...grace,
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
    out.result(r, () => [...(r.dryRun ? wouldRemove(r) : []), summary(r)]);
  },
};

function wouldRemove(r: GcResult): string[] {
  const rows = [...r.entriesRemoved]
    .sort(
      (a, b) =>
        (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) || compareVersions(a.version, b.version),
    )
    .map((e) => ['would remove', `${e.name}@${e.version}`, e.id.slice(0, 12)]);
  return table(rows);
}

function summary(r: GcResult): string {
  const verb = r.dryRun ? 'would remove' : 'removed';
  return `${verb} ${r.entriesRemoved.length} entries, ${r.objectsRemoved} objects (${formatBytes(r.bytesFreed)}), ${r.tmpRemoved} temporary files; kept ${r.entriesKept} entries`;
}
