// Fixed costs of issue 9: start-up beside `node -e 0`, status of a big prefix beside --version,
// a 20-file package into a new prefix, and 16 such activations at once into one prefix.

import type { Scenario } from './scenario.js';
import { peers } from './scenario.js';

const S = '--store "$W/s" -q';
const twenty = `d="$W/pkg/usr/share/pkg" && mkdir -p "$d" && for i in $(seq 20); do echo "$i" > "$d/f$i"; done && $PSTORE add "$W/pkg" --name pkg --version 1 ${S}`;
/** 16 packages of 20 files, p1..p16 */
const sixteen = `for k in $(seq 16); do d="$W/m$k/usr/share/p$k" && mkdir -p "$d" && for i in $(seq 20); do echo "$k $i" > "$d/f$i"; done && $PSTORE add "$W/m$k" --name p$k --version 1 ${S}; done`;

export const scenarios: Scenario[] = [
  {
    id: 'version',
    target: 'pstore --version ≤ 1.3× node -e 0',
    limit: 1.3,
    subject: '$PSTORE --version',
    peer: peers.nodeE0,
  },
  {
    id: 'activate-20-new-prefix',
    target: 'a 20-file package into a new prefix ≤ 2.5× node -e 0',
    limit: 2.5,
    setup: [twenty],
    reset: ['rm -rf "$W/p"'],
    subject: `$PSTORE activate pkg@1 --prefix "$W/p" ${S}`,
    peer: peers.nodeE0,
  },
  {
    id: 'parallel-16',
    target: '16 activations of 20-file packages at once into one prefix ≤ 5× one',
    limit: 5,
    setup: [sixteen],
    reset: ['rm -rf "$W/p" "$W/one"'],
    subject: `for k in $(seq 16); do $PSTORE activate p$k@1 --prefix "$W/p" ${S} & done; wait`,
    peer: { name: 'one of them', cmd: `$PSTORE activate p1@1 --prefix "$W/one" ${S}` },
  },
  {
    id: 'status-100000',
    target: 'status of a 100000-file prefix ≤ 1.3× pstore --version',
    limit: 1.3,
    tree: 100000,
    slow: true,
    setup: [
      `$PSTORE add "$TREE" --name t --version 1 ${S}`,
      `$PSTORE activate t@1 --prefix "$W/p" ${S}`,
    ],
    subject: `$PSTORE status --prefix "$W/p" ${S}`,
    peer: { name: 'pstore --version', cmd: '$PSTORE --version' },
  },
];
