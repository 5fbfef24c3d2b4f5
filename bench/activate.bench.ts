// Activation targets of issue 9: a whole tree (generated, or the merged Debian corpus) into an
// empty prefix (inplace and generations) beside `cp -al` and `ostree checkout -H`; generations
// rollback; a small package into and out of a big prefix beside the same into an empty one
// (inplace) and beside `cp -al` of the big prefix (generations). Yardsticks beside them: Node's
// bare link loop against `cp -al`, and a whole tree's deactivation against `rm -rf`.

import path from 'node:path';
import { mergedDebian } from './_lib/debian.js';
import type { Scenario } from './scenario.js';
import { peers } from './scenario.js';

const linkFloor = `node "${path.join(import.meta.dirname, '_lib', 'link-floor.mjs')}"`;

const S = '--store "$W/s" -q';
const addTree = `$PSTORE add "$TREE" --name t --version 1 ${S}`;
// A generations prefix keeps its trees and records beside it, in .pstore-NAME.
const freshPrefix = 'rm -rf "$W/p" "$W/.pstore-p" "$W/peer"';

/** A package of `files` small files, added as NAME@1. */
function smallPackage(name: string, files: number): string {
  return `d="$W/${name}/usr/share/${name}" && mkdir -p "$d" && for i in $(seq ${files}); do echo "$i" > "$d/f$i"; done && $PSTORE add "$W/${name}" --name ${name} --version 1 ${S}`;
}

/** A tree to activate whole: where it is, what the table calls it, how it is made. */
interface Workload {
  /** the rows' id part (`activate-${key}`) */
  key: string;
  /** the targets' words for it */
  what: string;
  /** its directory, for double quotes in a step */
  src: string;
  base: Pick<Scenario, 'tree' | 'slow' | 'needs'>;
  /** untimed steps that make `src` */
  make: string[];
}

function generatedTree(n: number, slow: boolean): Workload {
  return { key: `${n}`, what: `${n} files`, src: '$TREE', base: { tree: n, slow }, make: [] };
}

/** The corpus's packages merged into one tree (else a generated 7.5k-file one): bench/_lib/debian.ts */
const debianTree: Workload = {
  key: 'debian',
  what: mergedDebian.what,
  src: mergedDebian.src,
  base: {
    slow: true,
    needs: ['dpkg-deb'],
    ...(mergedDebian.tree ? { tree: mergedDebian.tree } : {}),
  },
  make: mergedDebian.setup,
};

/** Whole-tree activation into an empty prefix, beside cp -al and ostree checkout -H of the tree. */
function wholeTree(w: Workload): Scenario[] {
  const base = { ...w.base, reset: [freshPrefix], rssLimitMiB: 300 };
  const add = `$PSTORE add "${w.src}" --name t --version 1 ${S}`;
  const activate = (layout: string) =>
    `$PSTORE activate t@1 --prefix "$W/p" --layout ${layout} ${S}`;
  const cpAl = { name: peers.cpAl.name, cmd: `cp -al "${w.src}" "$W/peer"` };
  const ostreeRepo = [
    'ostree --repo="$W/repo" init --mode=bare',
    `ostree --repo="$W/repo" commit -b bench --tree=dir="${w.src}" >/dev/null`,
  ];
  return [
    {
      ...base,
      id: `activate-${w.key}`,
      target: `inplace activation, ${w.what}, ≤ 1.3× cp -al`,
      limit: 1.3,
      setup: [...w.make, add],
      subject: activate('inplace'),
      peer: cpAl,
    },
    {
      ...base,
      id: `activate-${w.key}-vs-ostree`,
      target: `inplace activation, ${w.what}, faster than ostree checkout -H`,
      limit: 1.0,
      needs: [...(w.base.needs ?? []), 'ostree'],
      setup: [...w.make, add, ...ostreeRepo],
      subject: activate('inplace'),
      peer: peers.ostreeCheckout,
    },
    {
      // Not a pstore target: Node's bare loop beside cp -al, the floor the two targets above sit on.
      ...base,
      id: `link-floor-${w.key}`,
      target: `Node's bare mkdirSync/linkSync loop, ${w.what}, beside cp -al`,
      limit: 1.3,
      yardstick: true,
      setup: [...w.make, `${linkFloor} list "${w.src}" "$W/list.json"`],
      reset: [...base.reset, 'rm -rf "$W/floor"'],
      subject: `${linkFloor} link "${w.src}" "$W/list.json" "$W/floor"`,
      peer: cpAl,
    },
    {
      ...base,
      id: `generations-${w.key}`,
      target: `generations, a full tree of ${w.what}, ≤ 1.3× cp -al`,
      limit: 1.3,
      setup: [...w.make, add],
      subject: activate('generations'),
      peer: cpAl,
    },
  ];
}

/**
 * One small package activated into (and deactivated from) a prefix of `n` files: inplace beside
 * the same into an empty prefix; generations (which builds a whole next tree) beside cp -al of it.
 */
function smallIntoBig(n: number, files: number, layout: 'inplace' | 'generations'): Scenario[] {
  const pkg = `small${files}`;
  const gens = layout === 'generations';
  const big = `$PSTORE activate t@1 --prefix "$W/big" --layout ${layout} ${S}`;
  const into = (prefix: string) => `$PSTORE activate ${pkg}@1 --prefix "$W/${prefix}" ${S}`;
  const out = (prefix: string) => `$PSTORE deactivate ${pkg} --prefix "$W/${prefix}" ${S}`;
  const setup = [addTree, smallPackage(pkg, files), big, `mkdir -p "$W/empty"`];
  // Timed one way; reset by the other way, so every run starts from the same prefix. A generations
  // prefix forgets the trees the runs built (prune), or each run would add a tree of n files.
  const undoAll = (undo: (prefix: string) => string) =>
    gens
      ? [
          `${undo('big')} || true`,
          `$PSTORE prune --keep 0 --prefix "$W/big" ${S}`,
          'rm -rf "$W/peer"',
        ]
      : [`${undo('big')} || true`, `${undo('empty')} || true`];
  const direction = (
    way: 'into' | 'out of',
    timed: (prefix: string) => string,
    undo: (prefix: string) => string,
  ): Scenario => ({
    id: `small${files}-${way.replace(' ', '-')}-${n}${gens ? '-generations' : ''}`,
    target: gens
      ? `generations: ${files}-file package ${way} a ${n}-file prefix ≤ 1.3× cp -al of it`
      : `${files}-file package ${way} a ${n}-file prefix ≤ 1.2× ${way} an empty one`,
    limit: gens ? 1.3 : 1.2,
    tree: n,
    slow: true,
    setup,
    reset: undoAll(undo),
    subject: timed('big'),
    peer: gens ? peers.cpAl : { name: 'same, empty prefix', cmd: timed('empty') },
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

/**
 * Not a target: deactivating a whole tree's package from an inplace prefix, beside `rm -rf` of a
 * hard-linked copy of the tree (the removals' peer issue 9 names). Each run of either side starts
 * from the tree activated again and copied again (untimed).
 */
function wholeRemoval(n: number): Scenario {
  return {
    id: `deactivate-${n}`,
    target: `inplace deactivation of a ${n}-file package, beside rm -rf of the tree`,
    limit: 1.3,
    yardstick: true,
    tree: n,
    slow: true,
    setup: [addTree],
    reset: [freshPrefix, `$PSTORE activate t@1 --prefix "$W/p" ${S}`, peers.cpAl.cmd],
    subject: `$PSTORE deactivate t --prefix "$W/p" ${S}`,
    peer: { name: 'rm -rf', cmd: 'rm -rf "$W/peer"' },
  };
}

export const scenarios: Scenario[] = [
  ...wholeTree(generatedTree(1000, false)),
  ...wholeTree(generatedTree(10000, true)),
  ...wholeTree(generatedTree(100000, true)),
  ...wholeTree(debianTree),
  wholeRemoval(10000),
  wholeRemoval(100000),
  rollback(1000, false),
  rollback(100000, true),
  ...smallIntoBig(100000, 1, 'inplace'),
  ...smallIntoBig(100000, 20, 'inplace'),
  ...smallIntoBig(100000, 1, 'generations'),
  ...smallIntoBig(100000, 20, 'generations'),
];
