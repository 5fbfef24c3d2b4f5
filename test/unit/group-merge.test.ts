// lib/txn/group-merge.ts: which requests a holder merges into one transaction, the merged target,
// and each member's own answer (SPEC.md §Group commit). Plain objects: a store of refs by
// NAME@VERSION, the set the group starts from.

import test from 'ava';
import { PstoreError } from '../../lib/core/errors.js';
import type { PackageRef } from '../../lib/core/package-ref.js';
import { splitRef } from '../../lib/core/ref.js';
import type { TargetContext } from '../../lib/txn/goal.js';
import type { GroupRequest } from '../../lib/txn/group-ask.js';
import { MergedRequests } from '../../lib/txn/group-merge.js';
import type { Op } from '../../lib/txn/ops.js';
import type { TxnResult } from '../../lib/txn/txn-types.js';
import { fakeId } from '../_helpers/manifests.js';

const ref = (nv: string): PackageRef => {
  const { name, version } = splitRef(nv);
  return { name, version: version!, id: fakeId(nv) };
};
const STORE = ['a@1', 'a@2', 'b@1', 'c@1', 'd@1'].map(ref);

/** The group's start: `active`, refs resolved from STORE (a bare NAME: the active one, else v1). */
function context(active: string[]): TargetContext {
  const current = active.map(ref);
  return {
    current,
    currentGeneration: 7,
    layout: 'inplace',
    resolve: async (r) => {
      const { name, version } = splitRef(r);
      const v = version ?? current.find((p) => p.name === name)?.version ?? '1';
      const found = STORE.find((p) => p.name === name && p.version === v);
      if (!found) throw new PstoreError('EPSTORE_NOT_FOUND', `no entry matches ${r}`);
      return found;
    },
    generation: async () => undefined,
    generationNumbers: async () => [7],
  };
}

const request = (ops: Op[], more: Partial<GroupRequest> = {}): GroupRequest => ({
  v: 1,
  token: '0'.repeat(32),
  store: '/s',
  kind: ops.some((o) => o.kind === 'activate') ? 'activate' : 'deactivate',
  ops,
  ...more,
});
const act = (r: string): Op => ({ kind: 'activate', ref: r });
const deact = (name: string): Op => ({ kind: 'deactivate', name });
const show = (ps: readonly PackageRef[]) => ps.map((p) => `${p.name}@${p.version}`).sort();

test('requests on distinct names merge: the union of their changes from the same start', async (t) => {
  const reqs = [request([act('b@1')]), request([deact('a')]), request([act('c')])];
  const m = new MergedRequests(reqs);
  const goal = await m.target(context(['a@1', 'd@1']));
  t.deepEqual(show(goal.packages), ['b@1', 'c@1', 'd@1']);
  t.is(m.from, 7);
  t.deepEqual(m.deferred, []);
  t.deepEqual(
    m.members.map((x) => [show(x.activated), show(x.deactivated)]),
    [
      [['b@1'], []],
      [[], ['a@1']],
      [['c@1'], []],
    ],
  );
});

test('a name a request names after another is deferred, and so is every later one naming it', async (t) => {
  const first = request([act('a@2')]);
  const again = request([deact('a')]); // would see a@2 only after the first
  const third = request([act('a@1')]); // must stay after `again`
  const other = request([act('b')]);
  const m = new MergedRequests([first, again, third, other]);
  const goal = await m.target(context(['a@1']));
  t.deepEqual(show(goal.packages), ['a@2', 'b@1']);
  t.deepEqual(
    m.members.map((x) => x.req),
    [first, other],
  );
  t.deepEqual(m.deferred, [again, third], 'in the order taken');
});

test('an id names its package once resolved: two requests on one name by other spellings are deferred', async (t) => {
  const byId = request([act(fakeId('a@2'))]);
  const byName = request([act('a@1')]);
  const store = context(['d@1']);
  const resolve = store.resolve;
  store.resolve = async (r) => (r === fakeId('a@2') ? ref('a@2') : resolve(r));
  const m = new MergedRequests([byId, byName]);
  await m.target(store);
  t.deepEqual(
    m.members.map((x) => x.req),
    [byId],
  );
  t.deepEqual(m.deferred, [byName]);
});

test('a request whose own target fails is deferred (run alone, to its own error); the others merge', async (t) => {
  const missing = request([act('zz@1')]);
  const notActive = request([deact('c')]);
  const ok = request([act('b@1')]);
  const m = new MergedRequests([missing, notActive, ok]);
  const goal = await m.target(context(['a@1']));
  t.deepEqual(show(goal.packages), ['a@1', 'b@1']);
  t.deepEqual(m.deferred, [missing, notActive]);
});

test('each member is answered with its own operations and the shared generation', async (t) => {
  const reqs = [request([deact('a'), act('a@2')]), request([act('d@1')])];
  const m = new MergedRequests(reqs);
  await m.target(context(['a@1', 'd@1']));
  const merged: TxnResult = {
    prefix: '/p',
    layout: 'inplace',
    generation: 8,
    previousGeneration: 7,
    activated: [ref('a@2')],
    deactivated: [ref('a@1')],
    noop: false,
    link: 'hardlink',
  };
  const [[r0, own0], [r1, own1]] = m.answers(merged) as [
    [GroupRequest, TxnResult],
    [GroupRequest, TxnResult],
  ];
  t.is(r0, reqs[0]!);
  t.like(own0, { generation: 8, previousGeneration: 7, noop: false, link: 'hardlink' });
  t.deepEqual([show(own0.activated), show(own0.deactivated)], [['a@2'], ['a@1']]);
  t.is(r1, reqs[1]!);
  // d@1 was active already: nothing of its own, as if it ran right after the group.
  t.like(own1, {
    generation: 8,
    previousGeneration: 8,
    noop: true,
    activated: [],
    deactivated: [],
  });
});

test('the merged options: the shared link and verify, every command line in order', (t) => {
  const m = new MergedRequests([
    request([act('a')], { link: 'copy', verify: true, command: 'pstore activate a' }),
    request([act('b')], { link: 'copy', verify: true }),
    request([act('c')], { link: 'copy', verify: true, command: 'pstore activate c' }),
  ]);
  t.deepEqual(m.options(), {
    link: 'copy',
    verify: true,
    command: 'pstore activate a; pstore activate c',
  });
  t.is(m.kind, 'activate');
  t.is(new MergedRequests([request([deact('a')])]).kind, 'deactivate');
});
