// Ingest targets of issue 9: `add` (durable) beside `sha512sum` + `cp -a` of the same tree and
// beside `ostree commit` (durable: fsync on, its default). A speed target of k× is a time ratio of
// at most 1/k.

import type { Scenario } from './scenario.js';

const add = '$PSTORE add "$TREE" --name t --version 1 --store "$W/s" -q';
const fresh = 'rm -rf "$W/s" "$W/peer" "$W/repo"; sync';
const shaCp = `sh -c 'find "$TREE" -type f -print0 | xargs -0 sha512sum >/dev/null && cp -a "$TREE" "$W/peer" && sync -f "$W"'`;
const ostreeCommit = `ostree --repo="$W/repo" init --mode=bare && ostree --repo="$W/repo" commit -b bench --tree=dir="$TREE" >/dev/null`;

function sized(n: number, slow: boolean): Scenario[] {
  const base = { tree: n, slow, reset: [fresh], subject: add, rssLimitMiB: 300 };
  return [
    {
      ...base,
      id: `add-${n}`,
      target: `add of ${n} files ≥ 0.8× the speed of sha512sum + cp -a`,
      limit: 1.25,
      peer: { name: 'sha512sum + cp -a', cmd: shaCp },
    },
    {
      ...base,
      id: `add-${n}-vs-ostree`,
      target: `add of ${n} files ≥ 1.5× the speed of ostree commit`,
      limit: 1 / 1.5,
      needs: ['ostree'],
      peer: { name: 'ostree commit', cmd: ostreeCommit },
    },
  ];
}

export const scenarios: Scenario[] = [
  ...sized(1000, false),
  ...sized(10000, true),
  ...sized(100000, true),
];
