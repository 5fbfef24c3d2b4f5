// The layer rule of lib/ (SPEC.md §Architecture, .dependency-cruiser.cjs) bites: a copy of lib/ with
// one deliberately wrong import fails `depcruise` naming the rule, while the untouched copy passes.
// `npm run lint` runs the same check on the real tree.

import test from 'ava';
import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO } from '../_helpers/cli.js';
import { tempDir } from '../_helpers/tmp.js';
import type { ExecutionContext } from 'ava';

const execFileP = promisify(execFile);
const DEPCRUISE = path.join(
  REPO,
  'node_modules',
  'dependency-cruiser',
  'bin',
  'dependency-cruise.mjs',
);

/** A copy of lib/ and the layer config; `change` edits it; returns depcruise's exit code and output. */
async function cruiseCopy(
  t: ExecutionContext,
  change?: (dir: string) => Promise<void>,
): Promise<{ code: number; output: string }> {
  const dir = await tempDir(t, 'layers');
  await fsp.cp(path.join(REPO, 'lib'), path.join(dir, 'lib'), { recursive: true });
  for (const f of ['.dependency-cruiser.cjs', 'tsconfig.json'])
    await fsp.copyFile(path.join(REPO, f), path.join(dir, f));
  // packages resolve as in the repository (lib/ imports valibot, level, ...)
  await fsp.symlink(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
  await change?.(dir);
  try {
    const { stdout, stderr } = await execFileP(
      process.execPath,
      [DEPCRUISE, 'lib', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'],
      { cwd: dir },
    );
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof e.code === 'number' ? e.code : -1,
      output: `${e.stdout ?? ''}${e.stderr ?? ''}`,
    };
  }
}

async function addImport(dir: string, file: string, line: string): Promise<void> {
  const abs = path.join(dir, file);
  await fsp.writeFile(abs, `${line}\n${await fsp.readFile(abs, 'utf8')}`);
}

test('the untouched copy of lib/ keeps the layer rule', async (t) => {
  const r = await cruiseCopy(t);
  t.is(r.code, 0, r.output);
});

// The kinds of wrong import, all made in one copy of lib/ and checked by one depcruise run (each
// run cruises the whole of lib/): every one must be reported under its own rule, naming its edge.
const VIOLATIONS: Array<{
  kind: string;
  rule: string;
  edge: string;
  make(dir: string): Promise<void>;
}> = [
  {
    kind: 'an import from a later layer into an earlier one (core/ may not reach the store)',
    rule: 'layer-core',
    edge: 'lib/core/manifest.ts → lib/store/layout.ts',
    make: (dir) => addImport(dir, 'lib/core/manifest.ts', "import '../store/layout.js';"),
  },
  {
    kind: 'a type-only import counts as much as any other',
    rule: 'layer-store',
    edge: 'lib/store/layout.ts → lib/prefix/layout.ts',
    make: (dir) =>
      addImport(
        dir,
        'lib/store/layout.ts',
        "import type { PrefixPaths } from '../prefix/layout.js';",
      ),
  },
  {
    kind: 'gc/ and transfer/ share a rank and may not import each other',
    rule: 'layer-gc-peers',
    edge: 'lib/gc/clock.ts → lib/transfer/bundle.ts',
    make: (dir) => addImport(dir, 'lib/gc/clock.ts', "import '../transfer/bundle.js';"),
  },
  {
    kind: 'a module outside the layer folders',
    rule: 'layer-known',
    edge: 'lib/stray.ts → lib/core/errors.ts',
    make: (dir) =>
      fsp.writeFile(
        path.join(dir, 'lib', 'stray.ts'),
        "export { PstoreError } from './core/errors.js';\n",
      ),
  },
];

test('each kind of wrong import fails the check under its own rule, naming the import', async (t) => {
  const r = await cruiseCopy(t, async (dir) => {
    for (const v of VIOLATIONS) await v.make(dir);
  });
  t.not(r.code, 0, r.output);
  for (const v of VIOLATIONS) {
    const line = new RegExp(
      `^ *error ${v.rule}: ${v.edge.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`,
      'm',
    );
    t.regex(r.output, line, `${v.kind}: reported as ${v.rule}`);
  }
});
