import type { Command } from '../command.js';
import { requirePositionals } from '../command.js';
import { formatBytes } from '../output.js';

export const verify: Command = {
  name: 'verify',
  summary: 'rehash every object and report corrupt or missing ones per entry (exit 4 if any)',
  usage: 'pstore verify',
  help: ['--json: {ok, entries, objects, bytes, problems: [{id, name, version, manifest, missing, corrupt}]}'],
  options: {},
  async run({ positionals, out, store }) {
    requirePositionals(positionals, 0, 0, '', 'verify');
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
