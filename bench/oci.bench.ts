// OCI remotes (issue 11): push and pull of a generated 7.5k-file tree (the size of the merged
// Debian corpus) beside `skopeo copy` of the same artifact as an OCI layout, and a warm
// `sync --from` (the store has everything: no transfer) beside `pstore --version`. A
// docker-registry on 127.0.0.1 (storage in $W) is started by the setup and stopped by the
// teardown; its address is in $W/registry, read by the shell's `read` (no process timed), and the
// lock's tag in $W/tag.

import type { Scenario } from './scenario.js';

const S = '--store "$W/a" -q';
const R = 'read -r R < "$W/registry"; read -r TAG < "$W/tag"';
const config = [
  'version: 0.1',
  // info: the log line `listening on` tells the port the kernel chose
  'log: {level: info, accesslog: {disabled: true}}',
  'storage: {filesystem: {rootdirectory: $W/data}, delete: {enabled: true}}',
  'http: {addr: 127.0.0.1:0, secret: bench}',
].join('\\n');

const startRegistry = [
  `printf "${config}\\n" > "$W/config.yml"`,
  'docker-registry serve "$W/config.yml" > "$W/registry.log" 2>&1 < /dev/null & echo $! > "$W/registry.pid"',
  `for i in $(seq 100); do p=$(sed -n 's/.*listening on 127.0.0.1:\\([0-9]*\\).*/\\1/p' "$W/registry.log"); [ -n "$p" ] && echo "127.0.0.1:$p" > "$W/registry" && exit 0; sleep 0.1; done; cat "$W/registry.log" >&2; exit 1`,
];

/** Store A holds the tree, active and locked; pushed once as bench/seed, copied to a layout. */
const seed = [
  `$PSTORE add "$TREE" --name corpus --version 1 ${S}`,
  `$PSTORE activate corpus --prefix "$W/pa" ${S}`,
  `$PSTORE lock --prefix "$W/pa" -o "$W/pstore.lock" ${S}`,
  `read -r R < "$W/registry"; $PSTORE push --lock "$W/pstore.lock" --to "oci://$R/bench/seed" --store "$W/a" --json | node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>console.log(JSON.parse(s).lock.tag))' > "$W/tag"`,
  `${R}; skopeo --insecure-policy copy -q --all --src-tls-verify=false "docker://$R/bench/seed:$TAG" "oci:$W/layout:$TAG"`,
];

const stopRegistry = 'kill "$(cat "$W/registry.pid")"';
/**
 * Each timed push goes to a registry started empty on a new port: skopeo would otherwise mount
 * blobs it has seen at another repository of the same registry (its blob-info cache) instead of
 * sending them, and pstore sends every blob a repository lacks.
 */
const freshRegistry = [stopRegistry, 'rm -rf "$W/data"', ...startRegistry];

const skopeo =
  'skopeo --insecure-policy copy -q --all --src-tls-verify=false --dest-tls-verify=false';
const base = {
  tree: 7500,
  needs: ['docker-registry', 'skopeo'],
  setup: [...startRegistry, ...seed],
  teardown: [stopRegistry],
};

export const scenarios: Scenario[] = [
  {
    ...base,
    id: 'oci-push-7500',
    target: 'push --lock of 7500 files vs skopeo copy of its OCI layout',
    limit: 1.0,
    reset: freshRegistry,
    subject: `${R}; $PSTORE push --lock "$W/pstore.lock" --to "oci://$R/bench/p" ${S}`,
    peer: {
      name: 'skopeo copy oci: → docker://',
      cmd: `${R}; ${skopeo} "oci:$W/layout:$TAG" "docker://$R/bench/s:$TAG"`,
    },
  },
  {
    ...base,
    id: 'oci-pull-7500',
    target: 'pull --lock of 7500 files vs skopeo copy into an OCI layout',
    limit: 1.0,
    reset: ['rm -rf "$W/b" "$W/back"'],
    subject: `${R}; $PSTORE pull --lock "$W/pstore.lock" --from "oci://$R/bench/seed" --store "$W/b" -q`,
    peer: {
      name: 'skopeo copy docker:// → oci:',
      cmd: `${R}; ${skopeo} "docker://$R/bench/seed:$TAG" "oci:$W/back:$TAG"`,
    },
  },
  {
    ...base,
    id: 'oci-sync-warm',
    target: 'warm sync --from (a no-op) ≤ 1.3× pstore --version',
    limit: 1.3,
    setup: [
      ...base.setup,
      `${R}; $PSTORE sync "$W/pstore.lock" --prefix "$W/pb" --from "oci://$R/bench/seed" ${S}`,
    ],
    subject: `${R}; $PSTORE sync "$W/pstore.lock" --prefix "$W/pb" --from "oci://$R/bench/seed" ${S}`,
    peer: { name: 'pstore --version', cmd: '$PSTORE --version' },
  },
];
