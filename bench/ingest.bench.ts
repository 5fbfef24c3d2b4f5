// Ingest targets of issue 9: `add` (durable) beside `sha512sum` + `cp -a` of the same tree and
// beside `ostree commit --fsync=true` (durable too), of generated trees and of the corpus's real
// Debian packages merged into one tree. A speed target of k× is a time ratio of at most 1/k.

import { mergedDebian } from './_lib/debian.js';
import type { Scenario } from './scenario.js';

const add = (src: string) => `$PSTORE add "${src}" --name t --version 1 --store "$W/s" -q`;
const fresh = 'rm -rf "$W/s" "$W/peer" "$W/repo"; sync';
const shaCp = `sh -c 'find "$TREE" -type f -print0 | xargs -0 sha512sum >/dev/null && cp -a "$TREE" "$W/peer" && sync -f "$W"'`;
const ostreeCommit = (src: string) => ({
  name: 'ostree commit',
  cmd: `ostree --repo="$W/repo" init --mode=bare && ostree --repo="$W/repo" commit --fsync=true -b bench --tree=dir="${src}" >/dev/null`,
});

function sized(n: number, slow: boolean): Scenario[] {
  const base = { tree: n, slow, reset: [fresh], subject: add('$TREE'), rssLimitMiB: 300 };
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
      peer: ostreeCommit('$TREE'),
    },
  ];
}

const debian: Scenario = {
  id: 'add-debian-vs-ostree',
  target: `add of ${mergedDebian.what} ≥ 1.5× the speed of ostree commit`,
  limit: 1 / 1.5,
  slow: true,
  needs: ['ostree', 'dpkg-deb'],
  ...(mergedDebian.tree ? { tree: mergedDebian.tree } : {}),
  setup: mergedDebian.setup,
  reset: [fresh],
  subject: add(mergedDebian.src),
  peer: ostreeCommit(mergedDebian.src),
  rssLimitMiB: 300,
};

export const scenarios: Scenario[] = [
  ...sized(1000, false),
  ...sized(10000, true),
  ...sized(100000, true),
  debian,
];
