import { formatBytes } from '../output.js';
import type { Command } from '../command.js';
import { REMOTE_HELP, entryLines, transferOptions, transferRequest } from '../remote-options.js';

export const push: Command = {
  name: 'push',
  summary: 'upload entries (or a lockfile and its entries) to an OCI registry',
  usage: 'pstore push REF... --to REMOTE | pstore push --lock LOCKFILE --to REMOTE',
  help: [
    'REF              NAME@VERSION, NAME or an entry id of this store',
    '--to REMOTE      oci://HOST[:PORT]/REPOSITORY (default: see REMOTE below)',
    "--lock FILE      push the lockfile's entries, then the lockfile as an index tagged lock-<hash>",
    '--dry-run        only check what the remote lacks; upload nothing',
    ...REMOTE_HELP,
    'entries the remote has are not sent again; exit 6 lists every REF the store lacks',
    '--json: {remote, entries: [{id, name, version, digest, uploaded}], blobsUploaded, bytesUploaded, lock, dryRun}',
  ],
  options: transferOptions('to'),
  async run(ctx) {
    const { remote, refs, opts } = await transferRequest(ctx, 'to', 'push');
    const r = await ctx.store().push(refs, remote, opts);
    const verb = r.dryRun ? 'would push' : 'pushed';
    const sent = r.entries.filter((e) => e.uploaded).length;
    ctx.out.result(r, () => [
      ...entryLines(r.entries, (i) => r.entries[i]!.uploaded, verb),
      ...(r.lock ? [`${r.lock.uploaded ? verb : 'present'}  lockfile  ${r.lock.tag}`] : []),
      `${r.remote}: ${sent} ${verb}, ${r.entries.length - sent} present, ${r.blobsUploaded} blobs, ${formatBytes(r.bytesUploaded)}`,
    ]);
  },
};
