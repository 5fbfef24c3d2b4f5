// Group commit's merged transaction (SPEC.md §Group commit): the requests a holder took, run as one
// transaction (one plan, one journal, one flush per phase, one generation), each waiter still
// answered with its own operations. Only requests that commute are merged: no name is changed
// (nor named) by two of them, so each one's target computed against the set the group starts from
// is what it would have been in any order, and the merged target is their union. A request that
// names a name an earlier one named, or whose own target fails (a ref not in the store, a name not
// active), is left out and run alone afterwards, in order, where it gets its own result or error.

import { isPstoreError } from '../core/errors.js';
import type { PackageRef } from '../core/package-ref.js';
import { splitRef } from '../core/ref.js';
import type { Target, TargetContext } from './goal.js';
import type { GroupRequest } from './group-ask.js';
import type { TxnKind } from './journal.js';
import { opsTarget } from './ops.js';
import { difference } from './packages.js';
import type { TxnOptions, TxnResult } from './txn-types.js';

/** A request the merged transaction serves, with its own part of the change. */
interface Member {
  req: GroupRequest;
  activated: PackageRef[];
  deactivated: PackageRef[];
}

/**
 * Requests with the same link and verify options, run as one transaction: `target` (the merged
 * target, called once, under the lock) sorts them into members and `deferred` (run alone after);
 * `answers` gives each member its own result from the merged one.
 */
export class MergedRequests {
  readonly members: Member[] = [];
  readonly deferred: GroupRequest[] = [];
  /** the generation the group started from, once `target` ran */
  from: number | undefined;

  constructor(private readonly reqs: readonly GroupRequest[]) {}

  /** activate when any request activates (the journal's kind is informational) */
  get kind(): TxnKind {
    return this.reqs.some((r) => r.kind === 'activate') ? 'activate' : 'deactivate';
  }

  /** The shared link and verify options; the command lines of every request, in order. */
  options(): TxnOptions {
    const [first] = this.reqs;
    const commands = this.reqs.flatMap((r) => (r.command === undefined ? [] : [r.command]));
    return {
      ...(first?.link ? { link: first.link } : {}),
      ...(first?.verify ? { verify: true } : {}),
      ...(commands.length ? { command: commands.join('; ') } : {}),
    };
  }

  /** The merged target: the set the group starts from with every member's change applied. */
  readonly target = async (t: TargetContext): Promise<Target> => {
    this.from = t.currentGeneration;
    const named = new Set<string>();
    const replaced = new Map<string, PackageRef | undefined>();
    for (const req of this.reqs) {
      const own = await this.ownTarget(req, t, named);
      if (!own) continue;
      for (const p of own.deactivated) replaced.set(p.name, undefined);
      for (const p of own.activated) replaced.set(p.name, p);
      this.members.push(own);
    }
    const kept = t.current.filter((p) => !replaced.has(p.name));
    const incoming = [...replaced.values()].filter((p) => p !== undefined);
    return { packages: [...kept, ...incoming] };
  };

  /** A request's own change against the group's start, or undefined (deferred: run alone). */
  private async ownTarget(
    req: GroupRequest,
    t: TargetContext,
    named: Set<string>,
  ): Promise<Member | undefined> {
    const written = req.ops.map((op) => splitRef(op.kind === 'activate' ? op.ref : op.name).name);
    let own: Member | undefined;
    if (!written.some((n) => named.has(n))) {
      try {
        const goal = await opsTarget(req.ops, t);
        own = {
          req,
          activated: difference(goal.packages, t.current),
          deactivated: difference(t.current, goal.packages),
        };
      } catch (err) {
        if (!isPstoreError(err)) throw err;
      }
    }
    const changed = own ? [...own.activated, ...own.deactivated].map((p) => p.name) : [];
    // A request is deferred, and its names block later ones, so requests sharing a name keep
    // their order; resolved names count too (an id names a package only once resolved).
    const clash = changed.some((n) => named.has(n));
    for (const n of [...written, ...changed]) named.add(n);
    if (own && !clash) return own;
    this.deferred.push(req);
    return undefined;
  }

  /** Each member's answer: the merged result with its own operations (SPEC.md §Group commit). */
  answers(merged: TxnResult): Array<[GroupRequest, TxnResult]> {
    return this.members.map((m) => {
      const noop = m.activated.length === 0 && m.deactivated.length === 0;
      const own: TxnResult = {
        ...merged,
        activated: m.activated,
        deactivated: m.deactivated,
        noop: merged.noop || noop,
      };
      // Nothing of its own to do: as if it ran right after the group.
      if (noop) own.previousGeneration = own.generation;
      return [m.req, own];
    });
  }
}
