import { formatBytes } from '../output.js';
import type { Command } from '../command.js';
import { REMOTE_HELP, entryLines, transferOptions, transferRequest } from '../remote-options.js';

export const pull: Command = {
  name: 'pull',
  summary:
    'download entries the store lacks from an OCI registry, verified before anything is added',
  usage: 'pstore pull REF... --from REMOTE | pstore pull --lock LOCKFILE --from REMOTE',
  help: [
    'REF              NAME@VERSION or a full 40-hex entry id',
    '--from REMOTE    oci://HOST[:PORT]/REPOSITORY (default: see REMOTE below)',
    '--lock FILE      pull the entries a lockfile names (nothing is asked when the store has them all)',
    '--dry-run        only resolve what would be downloaded; download and import nothing',
    ...REMOTE_HELP,
    'exit 4 when the remote serves other bytes (nothing imported); exit 6 lists every entry the remote lacks',
    '--json: {remote, entries: [{id, name, version, pulled}], blobsDownloaded, bytesDownloaded, objectsImported, dryRun}',
  ],
  options: transferOptions('from'),
  async run(ctx) {
    const { remote, refs, opts } = await transferRequest(ctx, 'from', 'pull');
    const r = await ctx.store().pull(refs, remote, opts);
    const verb = r.dryRun ? 'would pull' : 'pulled';
    const got = r.entries.filter((e) => e.pulled).length;
    ctx.out.result(r, () => [
      ...entryLines(r.entries, (i) => r.entries[i]!.pulled, verb),
      `${r.remote}: ${got} ${verb}, ${r.entries.length - got} present, ${formatBytes(r.bytesDownloaded)}`,
    ]);
  },
};
