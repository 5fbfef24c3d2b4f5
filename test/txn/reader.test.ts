// The reader test, with a real client: while a writer (the CLI, one child process after another)
// activates, upgrades, downgrades and deactivates generated Python packages in one prefix, a
// python3 process keeps asking importlib.metadata what is installed and checks that whatever it is
// told is really there (every RECORD file with its hash, every module importing at the
// distribution's version). Zero violations are allowed. The same harness run against a writer that
// places markers before files (PSTORE_TEST_UNSAFE_ORDER=markers-first) must find violations: that
// is what proves the harness can see the bug it exists to catch.
//
// Default: one cycle of writer steps and 300 polls each; PSTORE_TORTURE=1: many more of both.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { openStore } from '../../lib/index.js';
import { describe, storeCli, type CliResult } from '../_helpers/cli.js';
import {
  CAST,
  VERSIONS,
  addWithStore,
  castPackage,
  expectedTree,
  listing,
  prefixListing,
} from '../_helpers/prefix-fixtures.js';
import { startReader, type ReaderResult } from '../_helpers/pyprefix.js';
import { makeTemp, removeTree, tempDir } from '../_helpers/tmp.js';
import { sizeFor } from '../_helpers/torture.js';

const MIN_POLLS = sizeFor(300, 20_000);
const MIN_STEPS = sizeFor(11, 120);
const READER_SECONDS = sizeFor(150, 1500);

/** One cycle of writer steps: upgrades, downgrades, several packages at once, deactivations. */
const STEPS: string[][] = [
  ['activate', 'alpha@1.0', 'beta@1.0', 'gamma@1.0'],
  ['activate', 'alpha@2.0'],
  ['activate', 'beta@2.0', 'delta@1.0'],
  ['activate', 'alpha@3.0', 'gamma@2.0'],
  ['activate', 'alpha@1.0'], // downgrade 3 → 1
  ['deactivate', 'beta'],
  ['activate', 'delta@2.0', 'beta@3.0'],
  ['deactivate', 'gamma', 'delta'],
  ['activate', 'gamma@3.0', 'delta@3.0', 'alpha@2.0'],
  ['activate', 'beta@1.0', 'gamma@1.0', 'delta@1.0'], // downgrades
  ['deactivate', 'alpha', 'beta', 'gamma', 'delta'],
];

/** The package set after each step of the cycle (to check the final tree independently). */
function setAfter(steps: number): Map<string, string> {
  const active = new Map<string, string>();
  for (let i = 0; i < steps; i++) {
    const [verb, ...args] = STEPS[i % STEPS.length]!;
    for (const a of args) {
      if (verb === 'activate') active.set(a.split('@')[0]!, a.split('@')[1]!);
      else active.delete(a);
    }
  }
  return active;
}

let store: string;
let storeRoot: string;

test.before(async () => {
  storeRoot = await makeTemp('reader-store');
  store = path.join(storeRoot, 'store');
  const s = openStore({ path: store });
  for (const name of CAST) {
    await Promise.all(VERSIONS.map((v) => addWithStore(s, storeRoot, castPackage(name, v))));
  }
});

test.after.always(async () => {
  await removeTree(storeRoot);
});

interface RunOptions {
  layout: 'inplace' | 'generations';
  writerEnv?: Record<string, string>;
  writeBytecode?: boolean;
  /** stop as soon as the reader reports a violation (and after at most this many steps) */
  untilViolation?: { maxSteps: number };
}

interface RunOutcome {
  reader: ReaderResult;
  steps: number;
  prefix: string;
  writerFailures: CliResult[];
}

async function runWriterAndReader(t: ExecutionContext, opts: RunOptions): Promise<RunOutcome> {
  const work = await tempDir(t, 'reader');
  const prefix = path.join(work, 'prefix');
  const stopFile = path.join(work, 'stop');
  const cli = storeCli(store);
  const layoutArgs = ['--layout', opts.layout];
  // The prefix exists (empty) before the reader starts, so the reader never polls a missing dir.
  const first = await cli([...STEPS[0]!, '--prefix', prefix, ...layoutArgs, '-q']);
  t.is(first.code, 0, describe(first));
  const reader = await startReader({
    prefix,
    polls: opts.untilViolation ? 0 : MIN_POLLS,
    stopFile,
    seconds: READER_SECONDS,
    writeBytecode: opts.writeBytecode ?? false,
    stopOnViolation: opts.untilViolation !== undefined,
  });
  let readerExited = false;
  const done = reader.done.finally(() => {
    readerExited = true;
  });
  done.catch(() => {});
  const writerFailures: CliResult[] = [];
  let steps = 1;
  try {
    for (;;) {
      if (readerExited) break;
      if (opts.untilViolation) {
        if (steps >= opts.untilViolation.maxSteps) break;
      } else if (steps >= MIN_STEPS && reader.progress.polls >= MIN_POLLS) {
        break;
      }
      const r = await cli([...STEPS[steps % STEPS.length]!, '--prefix', prefix, '-q'], {
        env: opts.writerEnv ?? {},
      });
      if (r.code !== 0) writerFailures.push(r);
      steps++;
    }
  } finally {
    await fsp.writeFile(stopFile, '');
  }
  const result = await done;
  t.log(
    `${opts.layout}${opts.writeBytecode ? ' (bytecode written)' : ''}${opts.writerEnv ? ` ${JSON.stringify(opts.writerEnv)}` : ''}: ${steps} writer steps; reader: ${result.polls} polls, ${result.checked} conclusive checks, ${result.inconclusive} inconclusive, ${result.violationCount} violations in ${result.seconds}s`,
  );
  return { reader: result, steps, prefix, writerFailures };
}

async function assertCleanEnd(
  t: ExecutionContext,
  out: RunOutcome,
  opts: { bytecode?: boolean } = {},
): Promise<void> {
  // Read through the library: the writers are what this test spawns (verify --prefix has its CLI
  // contract in cli/prefix-contract and txn/activate).
  const v = await openStore({ path: store }).prefix(out.prefix).verify();
  t.true(v.ok, `verify after the run: ${JSON.stringify(v)}`);
  const active = setAfter(out.steps);
  const pkgs = [...active].map(([name, version]) =>
    castPackage(name as (typeof CAST)[number], version),
  );
  const want = listing(expectedTree(pkgs));
  const have = await prefixListing(out.prefix);
  if (!opts.bytecode) {
    t.deepEqual(have, want, "the prefix holds exactly the last step's packages");
    return;
  }
  // A reader writing bytecode may keep a deactivated package's directory alive with a __pycache__
  // pstore could not empty (the .pyc appeared after the removal): such directories are all the
  // difference allowed, never a file.
  t.deepEqual(
    want.filter((l) => !have.includes(l)),
    [],
    'every owned path is in place',
  );
  t.deepEqual(
    have.filter((l) => !want.includes(l) && !l.endsWith('/ dir')),
    [],
    'nothing but directories beyond the owned paths',
  );
}

function assertNoViolations(t: ExecutionContext, out: RunOutcome): void {
  t.deepEqual(out.writerFailures.map(describe), [], 'every writer step succeeded');
  t.true(out.reader.polls >= MIN_POLLS, `at least ${MIN_POLLS} polls (${out.reader.polls})`);
  t.true(
    out.reader.checked >= MIN_POLLS / 2,
    `the reader verified distributions (${out.reader.checked} conclusive checks)`,
  );
  // It saw the packages change under it: several versions of several packages.
  t.true(out.reader.seen.length >= 6, `versions verified: ${out.reader.seen.join(' ')}`);
  t.is(out.reader.violationCount, 0, JSON.stringify(out.reader.violations, null, 2));
  t.is(out.reader.listErrors, 0, 'distributions() never failed');
}

test.serial(
  'inplace: a python reader never sees a marker before its files (python3 -B)',
  async (t) => {
    const out = await runWriterAndReader(t, { layout: 'inplace' });
    assertNoViolations(t, out);
    await assertCleanEnd(t, out);
  },
);

test.serial(
  'inplace: a python reader that writes __pycache__ into the prefix never imports stale bytecode',
  async (t) => {
    const out = await runWriterAndReader(t, { layout: 'inplace', writeBytecode: true });
    t.true(out.reader.bytecode, 'the reader ran with bytecode writing on');
    assertNoViolations(t, out);
    await assertCleanEnd(t, out, { bytecode: true });
  },
);

test.serial('generations: a python reader never sees a half-built tree', async (t) => {
  const out = await runWriterAndReader(t, { layout: 'generations' });
  assertNoViolations(t, out);
  await assertCleanEnd(t, out);
  t.true((await fsp.lstat(out.prefix)).isSymbolicLink(), 'the generations prefix is a symlink');
});

test.serial(
  'control: the same reader catches a writer that places markers before files',
  async (t) => {
    const out = await runWriterAndReader(t, {
      layout: 'inplace',
      writerEnv: { PSTORE_TEST_UNSAFE_ORDER: 'markers-first' },
      untilViolation: { maxSteps: sizeFor(120, 400) },
    });
    t.deepEqual(out.writerFailures.map(describe), [], 'every writer step succeeded');
    // Not just any violation: one where a plain package file or module was not in place while the
    // marker was (a .pth placed after its .dist-info would be a different, smaller bug).
    t.true(
      out.reader.fileViolationCount > 0,
      `file violations after ${out.steps} markers-first steps and ${out.reader.polls} polls: ${JSON.stringify(out.reader.violations)}`,
    );
    t.log(JSON.stringify(out.reader.violations.at(-1)));
  },
);
