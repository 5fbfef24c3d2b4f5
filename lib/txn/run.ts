// One transaction, start to end (SPEC.md §Step order): prefix writer lock → store lock (shared, so
// gc waits) → recover any interrupted transaction → compute the target set → plan (pure) → check
// the prefix → journal (durable) → apply → commit → unlock. Failure before commit reverts.

import { isPstoreError } from '../core/errors.js';
import { throwIfAborted } from '../core/abort.js';
import { nowMs } from '../core/clock.js';
import { registerPrefix, unregisterPrefix } from '../store/prefixes.js';
import { discardNewPrefix, openPrefixForWrite, type OpenedPrefix } from '../prefix/open.js';
import type { PrefixPaths } from '../prefix/layout.js';
import type { PackageRef } from '../core/package-ref.js';
import type { EntryRecord } from '../core/types.js';
import {
  listGenerationNumbers,
  readCurrent,
  readCurrentGeneration,
  type CurrentRecord,
  type GenerationRecord,
} from '../prefix/state.js';
import { requireCompleteTree, treeBuildDir } from '../prefix/trees.js';
import { lockStore, type StoreContext } from '../store/context.js';
import { crashpoint, pausepoint } from '../core/crashpoint.js';
import { allSettledInOrder } from '../core/settle.js';
import { fsyncDir } from '../fs/atomic.js';
import type { FilesystemFlusher } from '../fs/writeback.js';
import { checkPrefix } from './check.js';
import { commitGeneration } from './commit.js';
import { newTxid, readJournal, writeJournal, type Journal, type TxnKind } from './journal.js';
import { assertSameFilesystem, createLinker, type Linker } from './link.js';
import { difference, loadPlanSides, ownedPaths, sameSet } from './packages.js';
import { planTransaction, throwConflict, type Plan } from './plan.js';
import { planDelta } from './plan-delta.js';
import { preloadIndexModule, type OwnershipDb } from './ownership/db.js';
import { ownedBefore, type OwnershipDelta } from './ownership/delta.js';
import { HeldOwnership, type CommittedSet } from './ownership/sync.js';
import { loadChange, Prepared } from './prepared.js';
import { hintReplace } from './replace-hint.js';
import { packagesToCheck } from './object-check.js';
import { preflight } from './preflight.js';
import { dropWarmPlaceWorker, placeThreads, warmPlaceWorker } from './placer.js';
import { applyJournal, recoverPending, revertJournal } from './recover.js';
import { replaySteps, stepClock } from './steps.js';
import { resolveGoal, type Target, type TargetContext } from './goal.js';
import { previewTransaction } from './preview.js';
import { checkTakingOver, overwriteMatcher, saveTakenOver } from './overwrite.js';
import { savedToRestore } from './restore-saved.js';
import type { SavedPath } from '../prefix/overwritten.js';
import { unchangedResult, type TxnOptions, type TxnResult } from './txn-types.js';
import { opsTarget, type Op } from './ops.js';
import { requestOptions, serveWaiters, type GroupServe } from './group.js';
import { groupAsk, groupingOn, type Served } from './group-ask.js';

export type { Target, TargetContext, TxnOptions, TxnResult };
export { refuseDuplicateNames } from './ops.js';

type StepClock = ReturnType<typeof stepClock>;

/** Whether the whole target set must be planned, and what --overwrite took over (saved first). */
interface TakingOver {
  full: boolean;
  overwritten: SavedPath[];
}

export async function runTransaction(
  ctx: StoreContext,
  dir: string,
  kind: TxnKind,
  target: (t: TargetContext) => Promise<Target>,
  opts: TxnOptions = {},
  ops?: readonly Op[],
): Promise<TxnResult> {
  if (opts.overwrite) overwriteMatcher(opts.overwrite); // a bad glob is refused before anything
  if (opts.dryRun) return previewTransaction(ctx, dir, kind, target, opts);
  const step = stepClock(opts.onProgress);
  const started = nowMs();
  const ask = groupAsk(ctx.root, kind, ops, { ...opts, waitMs: ctx.waitMs });
  // A writer that may be served by the holder loads LevelDB only once it runs its own transaction
  // (as soon as it holds the lock: the load then fills the waits on the prefix's state files);
  // a rollback loads it only if its layout needs the index (inplace), after the lock.
  const preload = kind === 'rollback' ? undefined : preloadIndexModule;
  if (!ask) preload?.();
  let opened: OpenedPrefix;
  try {
    opened = await openPrefixForWrite(dir, {
      storeRoot: ctx.root,
      layout: opts.layout,
      create: kind === 'activate' || kind === 'sync',
      waitMs: ctx.waitMs,
      deferRecord: true, // placed with the first journal (changeTo) or before a no-op returns
      onWait: () => ctx.onWait?.(`waiting for another pstore process to finish with ${dir}`),
      ...(ask ? { request: (file: string) => ask.request(file), onLocked: preload } : {}),
    });
  } catch (err) {
    if (ask) return servedResult(ask.outcome(err), opts, started);
    throw err;
  } finally {
    await ask?.done();
  }
  return holdingPrefix(ctx, opened, kind, target, opts, step);
}

/** With the prefix's writer lock: the transaction, then the waiters' requests (group.ts). */
async function holdingPrefix(
  ctx: StoreContext,
  opened: OpenedPrefix,
  kind: TxnKind,
  target: (t: TargetContext) => Promise<Target>,
  opts: TxnOptions,
  step: StepClock,
): Promise<TxnResult> {
  const p = opened.paths;
  const held = new HeldOwnership();
  const h: Holding = { ctx, p, held, placeRecord: async () => opened.unplacedRecord?.place() };
  // A prefix this call created has committed nothing (prefix.json was absent under the lock, and
  // history without it is refused): its empty ownership index is made now, while the store lock
  // is taken and the store's index opened to resolve the refs, instead of after them. sync()
  // checks it against the committed set read under the lock, as any index.
  if (opened.created) held.begin(ctx, p, NOTHING_COMMITTED);
  try {
    await using _storeLock = await lockStore(ctx, 'shared');
    step('lock');
    const result = await underLocks(h, kind, target, opts, step);
    if (opened.created && result.noop) {
      await h.placeRecord();
      await fsyncDir(p.meta); // prefix.json's name, see open.ts
    }
    // Before the waiters: one that asks while LevelDB merges is still served.
    await held.settle();
    if (groupingOn(opts)) await serveWaiters(opened.lock, p, ctx.root, groupServe(h));
    return result;
  } catch (err) {
    // A prefix this transaction created and could not fill is removed again: nothing changed.
    if (opened.created && !(await readJournal(p))) {
      await held.close().catch(() => {}); // its index goes too: first nothing may write it
      await discardNewPrefix(opened);
      await unregisterPrefix(ctx.layout, p.meta);
    }
    throw err;
  } finally {
    await held.close().catch(() => {}); // before the lock: verify --prefix may open it next
    await opened.lock.release();
    step('unlock');
  }
}

/** What every transaction under one hold of the prefix lock shares. */
interface Holding {
  ctx: StoreContext;
  p: PrefixPaths;
  /** the ownership index, open across the transactions (its own, then its waiters') */
  held: HeldOwnership;
  /** put a new prefix's prefix.json in place (OpenedPrefix.unplacedRecord): before its journal */
  placeRecord: () => Promise<void>;
}

/** How the holder serves its waiters (group.ts): alone, or several as one transaction. */
function groupServe(h: Holding): GroupServe {
  return {
    alone: (req, step) =>
      underLocks(h, req.kind, (t) => opsTarget(req.ops, t), requestOptions(req), step),
    together: (group, step) => underLocks(h, group.kind, group.target, group.options(), step),
    committedGeneration: async () => {
      await recoverPending(h.ctx, h.p);
      return (await readCurrent(h.p)).generation;
    },
  };
}

/** A served waiter's result, its wait and the holder's steps reported as its own (`--verbose`). */
function servedResult(served: Served, opts: TxnOptions, started: number): TxnResult {
  replaySteps(opts.onProgress, nowMs() - started, served.steps);
  return served.result;
}

/** A transaction under the locks held; one that fails not as a PstoreError drops the index. */
async function underLocks(...args: Parameters<typeof transaction>): Promise<TxnResult> {
  try {
    return await transaction(...args);
  } catch (err) {
    // Not one of ours (a LevelDB failure, a bug): the next transaction opens the index afresh.
    if (!isPstoreError(err)) await args[0].held.close().catch(() => {});
    throw err;
  }
}

/** Everything between taking the locks and releasing them: recover, resolve, plan, apply, commit. */
async function transaction(...args: Parameters<typeof resolveAndChange>): Promise<TxnResult> {
  const [h, , , , step] = args;
  await recoverPending(h.ctx, h.p);
  step('recover');
  try {
    return await resolveAndChange(...args);
  } finally {
    dropWarmPlaceWorker(); // started for the checks, not taken: a refusal, a failed journal
  }
}

/** The goal resolved against the set committed, and the change to it (none if it is that set). */
async function resolveAndChange(
  h: Holding,
  kind: TxnKind,
  target: (t: TargetContext) => Promise<Target>,
  opts: TxnOptions,
  step: StepClock,
): Promise<TxnResult> {
  const { ctx, p } = h;
  const cur = await readCurrent(p);
  const record = await readCurrentGeneration(p, cur);
  const current = record.packages;
  // Independent waits, side by side: the registration's syncs (in the store) and the store
  // index's open (LevelDB rewrites its manifest on every open). Both settle before either's
  // failure is thrown: a new prefix's failure removes the registration after this.
  const [, goal] = await allSettledInOrder([
    registerPrefix(ctx.layout, { dir: p.dir, meta: p.meta, layout: p.layout }),
    resolveGoal(
      ctx,
      p,
      kind,
      target,
      { current, generation: cur.generation },
      warmOnResolve(p, current),
    ),
  ]);
  const result: TxnResult = {
    prefix: p.dir,
    layout: p.layout,
    generation: cur.generation,
    previousGeneration: cur.generation,
    activated: difference(goal.packages, current),
    deactivated: difference(current, goal.packages),
    noop: false,
    link: opts.link ?? 'auto',
  };
  if (goal.existingGeneration === undefined && sameSet(current, goal.packages))
    return unchangedResult(p, cur.generation, result.link);
  await assertSameFilesystem(opts.link, ctx.root, p.layout === 'inplace' ? p.dir : p.meta, p.dir);
  return { ...result, ...(await changeTo(h, kind, committedOf(cur, record), goal, opts, step)) };
}

/**
 * Start the placing worker as soon as the refs resolved name more files to place than one thread
 * places (placer.ts), not once the plan is made: its start-up (~40 ms) then overlaps the index
 * sync, the manifests' reading and the plan, and it is up to share the object check. The count
 * is the entries' own: an entry already active is placed only by a generations tree. Past
 * EARLY_WARM_MAX_FILES it starts after the plan, as it did before.
 */
function warmOnResolve(p: PrefixPaths, current: readonly PackageRef[]) {
  let files = 0;
  return (e: EntryRecord) => {
    if (p.layout === 'inplace' && current.some((c) => c.id === e.id)) return;
    files += e.files + e.symlinks;
    if (files <= EARLY_WARM_MAX_FILES) warmPlaceWorker(files);
  };
}

/**
 * Past this many files, reading the manifests and planning take several times the worker's
 * start-up, and a worker up beside them adds its heap to theirs at the transaction's peak
 * (measured at 100k files: 276–280 MiB against 228–236 without, `bench/rss.mts`; limit 300 MB).
 */
const EARLY_WARM_MAX_FILES = 50_000;

/** What a prefix this call created has committed: nothing. */
const NOTHING_COMMITTED: CommittedSet = { generation: 0, packages: [] };

/** The committed set, current.json's `highest`, and whether the set's tree is hard-linked whole. */
type Committed = CommittedSet & { highest: number; hardLinked: boolean };

function committedOf(cur: CurrentRecord, record: GenerationRecord): Committed {
  const { generation, highest } = cur;
  return { generation, highest, packages: record.packages, hardLinked: record.hardLinked === true };
}

/** Plan, check, journal, apply and commit the change from `committed` to `goal`. */
async function changeTo(
  h: Holding,
  kind: TxnKind,
  committed: Committed,
  goal: Target,
  opts: TxnOptions,
  step: StepClock,
): Promise<Partial<TxnResult>> {
  const { ctx, p } = h;
  // Files an older generation took over (--overwrite) come back on a rollback past it.
  const restoring =
    p.layout === 'inplace' && goal.existingGeneration !== undefined
      ? await savedToRestore(p, committed.generation, goal.existingGeneration, new Map())
      : [];
  opts.onProgress?.({ phase: 'plan', unit: 'steps', done: 0 }); // reading manifests and checking may take a while
  const taking: TakingOver = { full: restoring.length > 0, overwritten: [] };
  const prep = await withReplaceHint(committed.packages, goal, () =>
    planAndCheck({ ...h, committed, goal, opts, step, taking }),
  );
  const generation = goal.existingGeneration ?? (await nextGeneration(p, committed));
  const restore = restoring.length
    ? await savedToRestore(p, committed.generation, generation, ownedPaths(prep.to))
    : [];
  const { overwritten } = taking;
  const journal = newJournal(kind, p, opts, {
    from: { generation: committed.generation, packages: [...committed.packages] },
    to: {
      generation,
      packages: goal.packages,
      newGeneration: goal.existingGeneration === undefined,
    },
    ...(overwritten.length ? { overwritten } : {}),
    ...(restore.length ? { restore } : {}),
  });
  await h.placeRecord(); // the journal's fsync of <state> makes its name durable (open.ts)
  try {
    const { linker, hardLinkedTree } = await applyNew(ctx, p, journal, prep, opts, step);
    await commitGeneration(p, journal, { highest: committed.highest, hardLinkedTree });
    await prep.commitIndex(ctx, journal.to);
    step('commit');
    return {
      generation,
      link: linker.method,
      ...(overwritten.length ? { overwritten: overwritten.map((s) => s.path) } : {}),
      ...(restore.length ? { restored: restore.map((s) => s.path) } : {}),
    };
  } finally {
    await prep.dropStaged(); // staged by applyNew, written by commitIndex: not, if that failed
  }
}

/**
 * Plan and check everything before the journal: a refusal changes nothing (a generations tree's
 * kept objects are the exception, SPEC.md §Check *Kept entries*). An inplace prefix with
 * an ownership index plans from the packages that change alone (plan-delta.ts); otherwise both
 * sides' manifests are read in full.
 */
/** What planning a transaction works from. */
interface PlanRequest extends Holding {
  committed: Omit<Committed, 'highest'>;
  goal: Target;
  opts: TxnOptions;
  step: StepClock;
  taking: TakingOver;
}

async function planAndCheck(req: PlanRequest): Promise<Prepared> {
  // Switching a generations prefix back to an existing tree is one symlink swap: no manifests,
  // no plan, no ownership index (left behind: the next transaction that uses it catches it up,
  // §Ownership sync), so its cost does not grow with the prefix (the tree was checked when built).
  // A new generations tree is built from nothing: the old set's manifests are not needed either.
  const index = isTreeSwitch(req.p, req.goal)
    ? undefined
    : await req.held.sync(req.ctx, req.p, req.committed);
  return prepare(req, new Prepared(index));
}

async function prepare(req: PlanRequest, prepared: Prepared): Promise<Prepared> {
  const { ctx, p, committed, goal, opts, step, taking } = req;
  const index = prepared.index;
  if (isTreeSwitch(p, goal)) {
    await requireCompleteTree(p, goal.existingGeneration); // never switch to a partial tree
    step('plan');
    return prepared;
  }
  // Taking files over (--overwrite) and putting them back (rollback) need the whole target set.
  const full = taking.full || (opts.overwrite?.length ?? 0) > 0;
  const delta =
    index && p.layout === 'inplace' && !full
      ? await loadChange(ctx, index, committed.packages, goal.packages)
      : undefined;
  if (delta) return prepared.incremental(delta, await checked(ctx, p, index!, delta, opts, step));
  const sides = await loadPlanSides(
    ctx,
    p.layout === 'generations' ? [] : committed.packages,
    goal.packages,
  );
  const plan = planTransaction(sides.from, sides.to); // throws on paths two packages ship
  step('plan');
  warmPlaceWorker(plan.place.length); // its start-up overlaps the checks (place-threads.ts)
  const only = p.layout === 'generations' ? packagesToCheck(sides.to, committed) : undefined;
  await preflight(ctx, p, plan, sides.to, { verify: opts.verify, only });
  if (p.layout === 'inplace') {
    const owned = new Set(ownedPaths(sides.from).keys());
    const taken = await checkTakingOver(p.dir, plan, owned, opts.overwrite);
    taking.overwritten = await saveTakenOver(ctx.layout, p.dir, taken);
  }
  step('check');
  return prepared.full(sides, plan);
}

/** A generations rollback: the switch to an existing tree alone. */
function isTreeSwitch(
  p: PrefixPaths,
  goal: Target,
): goal is Target & { existingGeneration: number } {
  return p.layout === 'generations' && goal.existingGeneration !== undefined;
}

/** The incremental plan, checked as a full one would be. */
async function checked(
  ctx: StoreContext,
  p: PrefixPaths,
  index: OwnershipDb,
  delta: OwnershipDelta,
  opts: TxnOptions,
  step: StepClock,
): Promise<Plan> {
  const plan = planDelta(delta);
  step('plan');
  warmPlaceWorker(plan.place.length);
  await preflight(ctx, p, plan, delta.added, { verify: opts.verify });
  await checkPrefix(p.dir, plan, await ownedBefore(index, delta, plan.obstacles));
  step('check');
  return plan;
}

async function nextGeneration(
  p: PrefixPaths,
  cur: { generation: number; highest: number },
): Promise<number> {
  return Math.max(cur.highest, cur.generation, ...(await listGenerationNumbers(p))) + 1;
}

function newJournal(
  kind: TxnKind,
  p: PrefixPaths,
  opts: TxnOptions,
  sets: Pick<Journal, 'from' | 'to' | 'overwritten' | 'restore'>,
): Journal {
  return {
    formatVersion: 1,
    txid: newTxid(),
    kind,
    layout: p.layout,
    link: opts.link ?? 'auto',
    startedAt: new Date().toISOString(),
    ...(opts.command === undefined ? {} : { command: opts.command }),
    ...sets,
  };
}

interface Applied {
  linker: Linker;
  /** a generations tree built here whose every file is a hard link of its object (commit.ts) */
  hardLinkedTree: boolean;
}

/** Journal (durable), then apply; a failure before commit reverts what was applied. */
async function applyNew(
  ctx: StoreContext,
  p: PrefixPaths,
  journal: Journal,
  prep: Prepared,
  opts: TxnOptions,
  step: StepClock,
): Promise<Applied> {
  const flusher = await flushHelperFor(p, journal, prep.plan); // starts no process yet
  // the last moment nothing is written
  throwIfAborted(opts.signal, { what: `the transaction on ${p.dir}`, subject: p.dir });
  await writeJournal(p, journal);
  crashpoint('txn:after-journal');
  await pausepoint('txn:after-journal');
  step('journal');
  const linker = createLinker(journal.link);
  const move = { ctx, p, j: journal, from: prep.from, to: prep.to, linker };
  let builtTree: boolean;
  try {
    ({ builtTree } = await applyJournal(move, firstRun(ctx, journal, prep, opts, flusher)));
  } catch (err) {
    await revertJournal(move, prep.reverse).catch(() => {});
    throw err;
  } finally {
    flusher?.close();
  }
  step('apply');
  return { linker, hardLinkedTree: builtTree && linker.onlyHardLinks };
}

/**
 * A helper process serving the flushes of a plan placed on two threads, which are flushes of the
 * whole filesystem (flush.ts): started where the apply first waits (firstRun), so that they cost
 * this thread no process start. Loaded only then: a small activation never loads child_process.
 */
async function flushHelperFor(
  p: PrefixPaths,
  j: Journal,
  plan: Plan | undefined,
): Promise<FilesystemFlusher | undefined> {
  if (placeThreads(plan?.place.length ?? 0) === 1) return undefined;
  const { FilesystemFlusher } = await import('../fs/writeback.js');
  // The apply's root, which a failed flush names: the prefix, or the tree being built.
  const root = p.layout === 'inplace' ? p.dir : treeBuildDir(p, j.to.generation, j.txid);
  return new FilesystemFlusher(root);
}

/**
 * What the first run of an apply has that recovery's does not: the plan, progress, and work for
 * its waits (the index batch, the flush helper).
 */
function firstRun(
  ctx: StoreContext,
  journal: Journal,
  prep: Prepared,
  opts: TxnOptions,
  flusher: FilesystemFlusher | undefined,
): Parameters<typeof applyJournal>[1] {
  return {
    plan: prep.plan,
    onProgress: opts.onProgress,
    onIdle: () => {
      flusher?.start();
      prep.stageIndex(ctx, journal.to);
    },
    syncfs: flusher && (() => flusher.flush()),
  };
}

/** A conflict with a package that stays active hints at `--replace` (replace-hint.ts). */
async function withReplaceHint<T>(
  current: readonly PackageRef[],
  goal: Target,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isPstoreError(err) && err.code === 'EPSTORE_CONFLICT')
      hintReplace(current, goal.packages, throwConflict)(err);
    throw err;
  }
}
