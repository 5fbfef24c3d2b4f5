// --compile makes, for every module, the bytes `py_compile.compile(SRC, dfile=REL, optimize=0,
// invalidation_mode=CHECKED_HASH)` makes in a fresh interpreter: compared file by file on a
// generated wheel (a module that does not compile gets no .pyc, a latin-1 module with a coding
// line) and on the corpus's pip wheel, 24 of whose 491 modules marshal differently once the
// compiling process has run `json.dumps` on a list, as the interpreter probe does (so a compiler
// sharing the probe's state fails here).

import { execFileSync } from 'node:child_process';
import { existsSync, promises as fsp, readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { describe, jsonOut, storeCli } from '../_helpers/cli.js';
import { corpusSkipReason, findDeb } from '../_helpers/corpus.js';
import { tempDir } from '../_helpers/tmp.js';
import { buildWheel, corpusWheels, installerPython } from '../_helpers/wheels.js';

const PY = installerPython() ?? 'python3';

/** py_compile's bytes for each `.py` under `prefix` (paths relative to it), in one fresh process. */
function referencePycs(
  prefix: string,
  sources: readonly string[],
  out: string,
): Map<string, Buffer | undefined> {
  const script = String.raw`
import json, py_compile, sys
done = {}
for i, rel in enumerate(json.load(sys.stdin)):
    try:
        py_compile.compile(rel, cfile=f'{sys.argv[1]}/{i}.pyc', dfile=rel, doraise=True, optimize=0,
                           invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
        done[rel] = i
    except py_compile.PyCompileError:
        pass
print(json.dumps(done))
`;
  const done = JSON.parse(
    execFileSync(PY, ['-I', '-c', script, out], {
      cwd: prefix,
      input: JSON.stringify(sources),
      encoding: 'utf8',
    }),
  ) as Record<string, number>;
  return new Map(
    sources.map((rel) => {
      const i = done[rel];
      return [rel, i === undefined ? undefined : readFileSync(path.join(out, `${i}.pyc`))];
    }),
  );
}

async function filesUnder(root: string, dir = ''): Promise<string[]> {
  const out: string[] = [];
  for (const d of await fsp.readdir(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.posix.join(dir, d.name);
    if (d.isDirectory() && !d.name.startsWith('.pstore'))
      out.push(...(await filesUnder(root, rel)));
    else if (d.isFile()) out.push(rel);
  }
  return out;
}

/** add --compile and activate `wheel`; every module's .pyc (or its absence) against py_compile's. */
async function compareWithPyCompile(
  t: import('ava').ExecutionContext,
  dir: string,
  wheel: string,
  name: string,
) {
  const cli = storeCli(path.join(dir, 'store'));
  const added = await cli(['add', wheel, '--python', PY, '--compile', '--json']);
  t.is(added.code, 0, describe(added));
  const prefix = path.join(dir, 'prefix');
  const act = await cli(['activate', name, '--prefix', prefix, '-q']);
  t.is(act.code, 0, describe(act));
  const tag = execFileSync(PY, ['-I', '-c', 'import sys; print(sys.implementation.cache_tag)'], {
    encoding: 'utf8',
  }).trim();
  const files = await filesUnder(prefix);
  const sources = files.filter((f) => f.endsWith('.py') && f.includes('-packages/'));
  const ref = path.join(dir, 'ref');
  await fsp.mkdir(ref);
  const expected = referencePycs(prefix, sources, ref);
  const pycOf = (rel: string) =>
    path.posix.join(
      path.posix.dirname(rel),
      '__pycache__',
      `${path.posix.basename(rel, '.py')}.${tag}.pyc`,
    );
  let differing = 0;
  for (const rel of sources) {
    const want = expected.get(rel);
    const have = files.includes(pycOf(rel))
      ? await fsp.readFile(path.join(prefix, pycOf(rel)))
      : undefined;
    if (want === undefined ? have !== undefined : !want.equals(have ?? Buffer.alloc(0)))
      differing++;
  }
  t.is(
    differing,
    0,
    `${differing} of ${sources.length} modules' bytecode differs from py_compile's`,
  );
  const compiled = [...expected.values()].filter((b) => b !== undefined).length;
  t.is(jsonOut<{ compiled: number }>(added).compiled, compiled);
  return { sources, compiled };
}

test('generated wheel: each .pyc is py_compile’s; a module that does not compile gets none', async (t) => {
  const dir = await tempDir(t, 'pyc-bytes');
  const wheel = buildWheel(dir, {
    name: 'bytes-demo',
    version: '1',
    files: {
      'bytes_demo/__init__.py': 'def f(c):\n    return f"[{c} bold]x[/]: [bold]{c}[/]"\n',
      'bytes_demo/broken.py': 'def (:\n',
      'bytes_demo/latin.py': Buffer.from('# -*- coding: latin-1 -*-\nS = "caf\xe9"\n', 'latin1'),
      'bytes_demo/sub/deep.py': 'import sys\nclass K:\n    platform = sys.platform\n',
    },
  });
  const { sources, compiled } = await compareWithPyCompile(t, dir, wheel, 'bytes-demo');
  t.is(sources.length, 4);
  t.is(compiled, 3, 'broken.py has no bytecode');
});

const why = corpusSkipReason(['dpkg-deb']);
if (why) test.skip(`corpus pip wheel: every .pyc is py_compile's (${why})`, () => {});
else
  test("corpus pip wheel: every .pyc is py_compile's", async (t) => {
    const dir = await tempDir(t, 'pyc-bytes-pip');
    const [wheel] = corpusWheels([findDeb('python3-pip-whl')], path.join(dir, 'x'));
    const { compiled } = await compareWithPyCompile(t, dir, wheel!, 'pip');
    t.true(compiled > 400);
  });

/** `--python` that is not one, or one whose compiler dies after it described the scheme. */
const BROKEN: Array<[string, (real: string) => string]> = [
  ['not a Python', () => '#!/bin/sh\necho "no JSON here"\n'],
  ['compiler exits 3 after the answer', (real) => `#!/bin/sh\n'${real}' "$@" </dev/null\nexit 3\n`],
];

for (const [what, script] of BROKEN)
  test(`--compile with an interpreter that fails (${what}) → exit 7 EPSTORE_INVALID, nothing stored`, async (t) => {
    const dir = await tempDir(t, 'bad-python');
    const real = execFileSync(PY, ['-c', 'import sys; print(sys.executable)'], {
      encoding: 'utf8',
    }).trim();
    const python = path.join(dir, 'python');
    await fsp.writeFile(python, script(real), { mode: 0o755 });
    const wheel = buildWheel(dir, {
      name: 'victim',
      version: '1',
      files: { 'victim/__init__.py': 'X = 1\n' },
    });
    const store = path.join(dir, 'store');
    const r = await storeCli(store)(['add', wheel, '--python', python, '--compile', '--json']);
    t.is(r.code, 7, describe(r));
    const { error } = JSON.parse(r.stderr) as { error: { code: string; subject: string } };
    t.is(error.code, 'EPSTORE_INVALID', describe(r));
    t.is(error.subject, python);
    t.false(existsSync(store), 'the store was not even created');
  });
