// `--verbose` on transactions (issue 10): each step with its time on stderr, in order; nothing with
// --quiet; the library observes the same steps as ProgressEvents (phase = the step, `ms` = its time).

import path from 'node:path';
import test from 'ava';
import { openStore, type ProgressEvent } from '../../lib/index.js';
import { describe, storeCli } from '../_helpers/cli.js';
import { buildTree } from '../_helpers/tree.js';
import { tempDir } from '../_helpers/tmp.js';

const SPEC = {
  'bin/tool': 'tool\n',
  'lib/python3/site-packages/tool.dist-info/METADATA': 'Name: tool\n',
};
const INPLACE_STEPS = [
  'lock',
  'recover',
  'plan',
  'check',
  'journal',
  'apply:remove-markers',
  'apply:place-files',
  'apply:remove-files',
  'apply:place-markers',
  'apply',
  'commit',
  'unlock',
];

const stepsIn = (stderr: string) =>
  [...stderr.matchAll(/^pstore: (\S+) \d+\.\d ms$/gm)].map((m) => m[1]);

for (const layout of ['inplace', 'generations'] as const) {
  test(`${layout}: --verbose prints every step with its time; --quiet prints nothing`, async (t) => {
    const dir = await tempDir(t, `verbose-${layout}`);
    const cli = storeCli(path.join(dir, 'store'));
    const src = await buildTree(path.join(dir, 'src'), SPEC);
    t.is((await cli(['add', src, '--name', 'tool', '--version', '1', '-q'])).code, 0);
    const at = ['--prefix', path.join(dir, 'p'), '--layout', layout];
    const r = await cli(['activate', 'tool', ...at, '--verbose']);
    t.is(r.code, 0, describe(r));
    // a generations tree is built by the same apply steps, into a new tree
    t.deepEqual(stepsIn(r.stderr), INPLACE_STEPS, describe(r));
    t.regex(r.stdout, /generation 1 \(was 0\)/, 'the result is printed as without --verbose');
    const quiet = await cli(['deactivate', 'tool', ...at, '-v', '-q']);
    t.is(quiet.code, 0, describe(quiet));
    t.is(quiet.stdout + quiet.stderr, '', 'nothing with --quiet');
    const noop = await cli(['deactivate', 'tool', ...at, '-v']);
    t.is(noop.code, 6, describe(noop));
  });
}

test('the library sees the same steps as progress events', async (t) => {
  const dir = await tempDir(t, 'verbose-api');
  const store = openStore({ path: path.join(dir, 'store') });
  await store.add(await buildTree(path.join(dir, 'src'), SPEC), { name: 'tool', version: '1' });
  const events: ProgressEvent[] = [];
  await store.prefix(path.join(dir, 'p')).activate(['tool'], { onProgress: (e) => events.push(e) });
  const steps = events.filter((e) => e.ms !== undefined);
  t.deepEqual(
    steps.map((e) => e.phase),
    INPLACE_STEPS,
  );
  t.true(steps.every((e) => typeof e.ms === 'number' && e.ms >= 0));
});
