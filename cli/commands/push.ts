import { formatBytes } from '../output.js';
import { REMOTE_HELP, transferCommand, transferLines } from '../remote-options.js';

export const push = transferCommand({
  name: 'push',
  flag: 'to',
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
  move: (store, refs, remote, opts) => store.push(refs, remote, opts),
  human: (r) => {
    const verb = r.dryRun ? 'would push' : 'pushed';
    return transferLines(r, (e) => e.uploaded, verb, {
      after: r.lock ? [`${r.lock.uploaded ? verb : 'present'}  lockfile  ${r.lock.tag}`] : [],
      totals: `${r.blobsUploaded} blobs, ${formatBytes(r.bytesUploaded)}`,
    });
  },
});
