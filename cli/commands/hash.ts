import { prefixCommand } from '../prefix-command.js';

export const hash = prefixCommand({
  name: 'hash',
  summary:
    "print a digest of a prefix's owned tree (paths, types, exec bits, contents, symlink targets)",
  help: [
    'mtimes, owners and files no package owns are not part of the digest',
    'waits (up to --wait) for a running transaction; transaction: interrupted means the files may be a mix',
    '--json: {prefix, generation, digest, paths, transaction, interruptedReason?, transactionInProgress}',
  ],
  call: (prefix) => prefix.hash(),
  human: (r) => r.digest,
});
