// A benchmark scenario is data: shell steps with a few variables, run by one loop (runner.ts).
// A file bench/NAME.bench.ts exports `scenarios: Scenario[]`; run.ts finds every such file, so a
// new workload is one more entry. Steps run under `sh -c` with these variables exported:
//   PSTORE  the built CLI (dist/cli/pstore.cjs, run as a program)  W     this scenario's scratch directory
//   TREE    the generated tree of `tree` files         N     that tree's file count
// `subject` and `peer` are timed in turn (subject, peer, subject, peer, ...), each after `reset`.

export interface Scenario {
  /** unique, stable: the key of its result */
  id: string;
  /** the target, in words */
  target: string;
  /** met when median(subject ÷ peer) ≤ limit; without a peer, when median(subject) ≤ limit ms
   *  (with inProcess, the median of its own time under the prefix lock) */
  limit: number;
  /** the subject runs with --verbose (stderr kept, not -q): its steps from recover to commit
   *  (bench/_lib/steps.ts) are its in-process time, judged against limit beside the whole run */
  inProcess?: boolean;
  /** a generated tree of this many files, as $TREE */
  tree?: number;
  /** commands the peer needs (a missing one makes the row say "peer missing") */
  needs?: string[];
  /** untimed, once, before the first run */
  setup?: string[];
  /** untimed, before every timed command */
  reset?: string[];
  /** the pstore command timed */
  subject: string;
  /** the peer timed beside it, and its name for the table */
  peer?: { name: string; cmd: string };
  /** also record the subject's peak RSS (MiB) once, untimed, against this bound */
  rssLimitMiB?: number;
  /** untimed, once, after the last run, even when a step failed (stop a server setup started) */
  teardown?: string[];
  /** untimed, once, after the timed runs: its stdout is printed under the table */
  report?: string;
  /** why this scenario cannot run on this machine (a corpus or interpreter absent), decided when
   *  its file is loaded; the row then says so instead of failing */
  unavailable?: string;
  /** left out of BENCH_QUICK=1 runs */
  slow?: boolean;
  /** a reference row, not a pstore target (a floor beside a peer): printed, never counted */
  yardstick?: boolean;
}

/** Ratio targets use this: the peer is known by name. */
export const peers = {
  cpAl: { name: 'cp -al', cmd: 'cp -al "$TREE" "$W/peer"' },
  ostreeCheckout: {
    name: 'ostree checkout -H',
    cmd: 'ostree --repo="$W/repo" checkout -H bench "$W/peer"',
  },
  nodeE0: { name: 'node -e 0', cmd: 'node -e 0' },
} as const;
