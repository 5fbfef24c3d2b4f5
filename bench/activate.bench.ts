// Activation targets of issue 9: a whole tree into an empty prefix (inplace and generations) beside
// `cp -al` and `ostree checkout -H`; generations rollback; a small package into and out of a big
// prefix beside the same into an empty one.

import path from 'node:path';
import type { Scenario } from './scenario.js';
import { peers } from './scenario.js';

const linkFloor = `node "${path.join(import.meta.dirname, '_lib', 'link-floor.mjs')}"`;

const S = '--store "$W/s" -q';
const addTree = `$PSTORE add "$TREE" --name t --version 1 ${S}`;
// A generations prefix keeps its trees and records beside it, in .pstore-NAME.
const freshPrefix = 'rm -rf "$W/p" "$W/.pstore-p" "$W/peer"';
const ostreeRepo = [
  'ostree --repo="$W/repo" init --mode=bare',
  'ostree --repo="$W/repo" commit -b bench --tree=dir="$TREE" >/dev/null',
];

/** A package of `files` small files, added as NAME@1. */
function smallPackage(name: string, files: number): string {
  return `d="$W/${name}/usr/share/${name}" && mkdir -p "$d" && for i in $(seq ${files}); do echo "$i" > "$d/f$i"; done && $PSTORE add "$W/${name}" --name ${name} --version 1 ${S}`;
}

function wholeTree(n: number, slow: boolean): Scenario[] {
  const base = { tree: n, slow, reset: [freshPrefix], rssLimitMiB: 300 };
  const activate = (layout: string) =>
    `$PSTORE activate t@1 --prefix "$W/p" --layout ${layout} ${S}`;
  return [
    {
      ...base,
      id: `activate-${n}`,
      target: `inplace activation, ${n} files, ≤ 1.3× cp -al`,
      limit: 1.3,
      setup: [addTree],
      subject: activate('inplace'),
      peer: peers.cpAl,
    },
    {
      ...base,
      id: `activate-${n}-vs-ostree`,
      target: `inplace activation, ${n} files, faster than ostree checkout -H`,
      limit: 1.0,
      needs: ['ostree'],
      setup: [addTree, ...ostreeRepo],
      subject: activate('inplace'),
      peer: peers.ostreeCheckout,
    },
    {
      // Not a pstore target: Node's bare loop beside cp -al, the floor the two targets above sit on.
      ...base,
      id: `link-floor-${n}`,
      target: `Node's bare mkdirSync/linkSync loop, ${n} files, beside cp -al`,
      limit: 1.3,
      yardstick: true,
      setup: [`${linkFloor} list "$TREE" "$W/list.json"`],
      reset: [...base.reset, 'rm -rf "$W/floor"'],
      subject: `${linkFloor} link "$TREE" "$W/list.json" "$W/floor"`,
      peer: peers.cpAl,
    },
    {
      ...base,
      id: `generations-${n}`,
      target: `generations, a full tree of ${n} files, ≤ 1.3× cp -al`,
      limit: 1.3,
      setup: [addTree],
      subject: activate('generations'),
      peer: peers.cpAl,
    },
  ];
}

/** One small package activated into (and deactivated from) a prefix of `n` files vs an empty one. */
function smallIntoBig(n: number, files: number): Scenario[] {
  const pkg = `small${files}`;
  const big = `$PSTORE activate t@1 --prefix "$W/big" ${S}`;
  const into = (prefix: string) => `$PSTORE activate ${pkg}@1 --prefix "$W/${prefix}" ${S}`;
  const out = (prefix: string) => `$PSTORE deactivate ${pkg} --prefix "$W/${prefix}" ${S}`;
  const setup = [addTree, smallPackage(pkg, files), big, `mkdir -p "$W/empty"`];
  // Timed one way; reset by the other way, so every run starts from the same prefix.
  const direction = (
    way: 'into' | 'out of',
    timed: (prefix: string) => string,
    undo: (prefix: string) => string,
  ): Scenario => ({
    id: `small${files}-${way.replace(' ', '-')}-${n}`,
    target: `${files}-file package ${way} a ${n}-file prefix ≤ 1.2× ${way} an empty one`,
    limit: 1.2,
    tree: n,
    slow: true,
    setup,
    reset: [`${undo('big')} || true`, `${undo('empty')} || true`],
    subject: timed('big'),
    peer: { name: 'same, empty prefix', cmd: timed('empty') },
  });
  return [direction('into', into, out), direction('out of', out, into)];
}

/**
 * A generations rollback of an `n`-file prefix (generation 2 adds one file to 1). Judged on its own
 * time under the prefix lock (recover → commit, from --verbose), not Node's start-up: at any size
 * it is the switch of one symlink and two state files.
 */
function rollback(n: number, slow: boolean): Scenario {
  return {
    id: `rollback-generations-${n}`,
    target: `generations rollback of a ${n}-file prefix (in-process: recover → commit) < 20 ms`,
    limit: 20,
    inProcess: true,
    tree: n,
    slow,
    setup: [
      addTree,
      smallPackage('extra', 1),
      `$PSTORE activate t@1 --prefix "$W/p" --layout generations ${S}`,
      `$PSTORE activate extra@1 --prefix "$W/p" ${S}`,
    ],
    // Its first reset finds generation 2 current already (a usage error, exit 2): nothing to undo.
    reset: [`$PSTORE rollback --to 2 --prefix "$W/p" ${S} || true`],
    subject: `$PSTORE rollback --to 1 --prefix "$W/p" --store "$W/s" --verbose >/dev/null`,
  };
}

export const scenarios: Scenario[] = [
  ...wholeTree(1000, false),
  ...wholeTree(10000, true),
  ...wholeTree(100000, true),
  rollback(1000, false),
  rollback(100000, true),
  ...smallIntoBig(100000, 1),
  ...smallIntoBig(100000, 20),
];
