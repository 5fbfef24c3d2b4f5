// The options a transaction takes and the result it returns, shared by the real run (run.ts) and
// the dry run (preview.ts), and a no-op's result (unchangedResult).

import type { LayoutKind } from '../core/names.js';
import type { PackageRef } from '../core/package-ref.js';
import type { ProgressListener } from '../core/types.js';
import type { LinkMode } from './link.js';
import type { PackageChanges } from '../prefix/query.js';
import type { PrefixPaths } from '../prefix/layout.js';

/** Options of a transaction (activate, deactivate, sync, rollback, commit); all optional. */
export interface TxnOptions {
  /**
   * how store objects become files in the prefix; default `auto` (hard link, else reflink, else
   * copy). A forced `hardlink` or `reflink` across filesystems is EPSTORE_USAGE.
   */
  link?: LinkMode;
  /** layout for a prefix this transaction creates */
  layout?: LayoutKind;
  /** called once per finished step (`phase` a {@link TxnStep}, with `ms`) and with `link` events */
  onProgress?: ProgressListener;
  /** rehash every object to be linked first, not only check its size */
  verify?: boolean;
  /** compute the plan and every conflict, change nothing; the result carries `plan` */
  dryRun?: boolean;
  /** stop at the next safe point with EPSTORE_ABORTED; the prefix is left as before (core/abort.ts) */
  signal?: AbortSignal;
  /**
   * what made this transaction, recorded in the generation it creates and shown by `generations`
   * (the CLI passes its command line; an installer may pass its own words)
   */
  command?: string;
  /**
   * globs (prefix-relative, as pacman's --overwrite: `*` crosses `/`, `!GLOB` excludes, the last
   * match decides): unowned files and symlinks at matching paths are taken over instead of being
   * a conflict; what they held is kept so a revert or `rollback` puts it back
   */
  overwrite?: string[];
  /**
   * default true: while another process holds the prefix, send it this activate or deactivate to
   * run after its own, instead of waiting to run it here (SPEC.md §Group commit); false, or
   * PSTORE_NO_GROUP=1, never sends nor serves one
   */
  group?: boolean;
}

/** What a transaction did (or, with `dryRun`, would do). */
export interface TxnResult {
  /** the prefix directory, absolute */
  prefix: string;
  /** the prefix's layout */
  layout: LayoutKind;
  /** the generation current afterwards (unchanged by a no-op) */
  generation: number;
  /** the generation current before */
  previousGeneration: number;
  /** entries active afterwards that were not before */
  activated: PackageRef[];
  /** entries active before that are not any more */
  deactivated: PackageRef[];
  /** true when the package set was already the requested one and nothing was written */
  noop: boolean;
  /** how files were linked: hardlink, reflink or copy (auto when nothing was linked) */
  link: LinkMode;
  /** paths of unowned files this transaction took over (only with `overwrite`, when any) */
  overwritten?: string[];
  /** paths a rollback put back, as an `overwrite` transaction had found them (when any) */
  restored?: string[];
  /** true when the prefix's writer of the moment ran this transaction for this process (group) */
  grouped?: boolean;
  /** dry runs only: what would change */
  plan?: PlanPreview;
}

/**
 * A transaction's result when the prefix holds the set asked for already (`noop`): the one the
 * transaction returns and the one a sync answers without the lock (api/sync-noop.ts).
 */
export function unchangedResult(
  p: Pick<PrefixPaths, 'dir' | 'layout'>,
  generation: number,
  link: LinkMode,
): TxnResult {
  return {
    prefix: p.dir,
    layout: p.layout,
    generation,
    previousGeneration: generation,
    activated: [],
    deactivated: [],
    noop: true,
    link,
  };
}

/** How many paths a transaction would touch (plain paths; marker units counted as units). */
export interface PlanCounts {
  /** files and symlinks created where the prefix had none of them */
  place: number;
  /** files and symlinks the prefix had, with other content */
  replace: number;
  /** files and symlinks no package will own any more */
  remove: number;
  /** directories created */
  mkdirs: number;
  /** directories removed (once empty) */
  rmdirs: number;
  /** marker units (e.g. `*.dist-info`) taken away first and put back last */
  markersRemoved: number;
  /** marker units placed last */
  markersPlaced: number;
}

/** A dry run's answer: what would change, and every conflict that would stop it. */
export interface PlanPreview extends PackageChanges {
  /** how many paths the run would touch */
  files: PlanCounts;
  /** every EPSTORE_CONFLICT the real run would raise (it stops at the first) */
  conflicts: Array<Record<string, unknown>>;
  /** with `overwrite`: the unowned paths the real run would take over */
  overwrite?: string[];
}
