import { formatBytes } from '../output.js';
import { REMOTE_HELP, transferCommand, transferLines } from '../remote-options.js';

export const pull = transferCommand({
  name: 'pull',
  flag: 'from',
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
  move: (store, refs, remote, opts) => store.pull(refs, remote, opts),
  human: (r) =>
    transferLines(r, (e) => e.pulled, r.dryRun ? 'would pull' : 'pulled', {
      totals: formatBytes(r.bytesDownloaded),
    }),
});
