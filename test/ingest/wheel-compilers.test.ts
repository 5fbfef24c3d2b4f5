// How many processes --compile uses (compile.ts): one per idle core by the 1-minute load average,
// so the count differs between machines and moments; and the split never changes a byte: the
// target interpreter's compiler answers the same .pyc for the same sources with one process and
// with three (a module that does not compile gets none either way).

import test from 'ava';
import { COMPILE_SERVER, compileModules, compilerCount } from '../../lib/ingest/wheel/compile.js';
import { startInterpreter } from '../../lib/ingest/wheel/interpreter.js';
import type { PlacedFile } from '../../lib/ingest/wheel/record.js';
import { installerPython } from '../_helpers/wheels.js';

const PY = installerPython() ?? 'python3';

test('one compiler per idle core: at least one, at most four', (t) => {
  t.is(compilerCount(2, 0.2), 2);
  t.is(compilerCount(2, 1.5), 1);
  t.is(compilerCount(2, 14.2), 1);
  t.is(compilerCount(1, 0), 1);
  t.is(compilerCount(8, 5.9), 3);
  t.is(compilerCount(16, 0), 4);
});

/** Modules that exercise marshal's sharing (repeated names, strings, nested code), one broken. */
function modules(purelib: string): PlacedFile[] {
  const body = (i: number): string =>
    [
      `"""module ${i}"""`,
      `import json`,
      `NAMES = ${JSON.stringify(['[', 'a', `m${i}`, 'a'])}`,
      `def f${i}(x, *, y=${i}):`,
      `    return [json.dumps(x), 'shared', lambda: y]`,
      `class C${i}:`,
      `    attr = 'shared'`,
      '',
    ].join('\n');
  const files = Array.from({ length: 7 }, (_, i) => ({
    path: `${purelib}/pkg/m${i}.py`,
    data: Buffer.from(body(i)),
    exec: false,
  }));
  files.push({ path: `${purelib}/pkg/broken.py`, data: Buffer.from('def (:\n'), exec: false });
  return files;
}

async function compileWith(processes: number): Promise<Map<string, Buffer>> {
  const session = startInterpreter(PY, undefined, {
    code: COMPILE_SERVER,
    args: [String(processes)],
  });
  const py = await session.described;
  const pycs = await compileModules(session, py, modules(py.paths.purelib), [py.paths.purelib]);
  return new Map(pycs.map((f) => [f.path, f.data]));
}

test('the same .pyc bytes from one compiling process and from three', async (t) => {
  const one = await compileWith(1);
  const three = await compileWith(3);
  t.is(one.size, 7, 'every module but the broken one');
  t.false([...one.keys()].some((p) => p.includes('broken')));
  t.deepEqual([...three.keys()].sort(), [...one.keys()].sort());
  for (const [p, bytes] of one) {
    t.true(bytes.equals(three.get(p)!), p);
    t.is(bytes.readUInt32LE(4), 3, `${p}: a checked-hash .pyc (PEP 552 flags 0b11)`);
  }
});
