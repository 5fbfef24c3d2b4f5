// Wheels (issue 12): `pstore add W && pstore activate` beside `pip install --no-deps --no-index
// --no-compile --prefix` and `python3 -m installer --no-compile-bytecode` of the same wheel, then
// with bytecode (`--compile` beside their compiling defaults). The wheels are the corpus's real
// ones (pip, setuptools, wheel, from Debian's python3-*-whl); every run starts from a fresh store
// and prefix. The goal is to be several times faster than both peers: ≥ 2× here.

import { spawnSync } from 'node:child_process';
import { CORPUS_DEBS, corpusMissing } from './_lib/paths.js';
import type { Scenario } from './scenario.js';

/** An interpreter with both peers' modules: `python3` on PATH, else Debian's. */
const python = ['python3', '/usr/bin/python3'].find(
  (py) => spawnSync(py, ['-c', 'import pip, installer'], { stdio: 'ignore' }).status === 0,
);
const unavailable =
  corpusMissing ??
  (python ? undefined : 'no python3 with pip and installer (apt-get install python3-installer)');

const wheelOf = (name: string) => `"$W"/usr/share/python-wheels/${name}-*.whl`;
const extract = (name: string) =>
  `for d in "${CORPUS_DEBS}"/python3-${name}-whl_*.deb; do dpkg-deb -x "$d" "$W"; done`;

function pstore(name: string, compile: boolean): string {
  const add = `$PSTORE add ${wheelOf(name)} --python ${python} ${compile ? '--compile ' : ''}`;
  return `${add}--store "$W/s" -q && $PSTORE activate ${name} --prefix "$W/p" --store "$W/s" -q`;
}

function peersOf(compile: boolean) {
  // --ignore-installed: with --prefix, pip would otherwise uninstall the interpreter's own copy.
  const pip = `${python} -m pip install -q --no-deps --no-index --ignore-installed ${compile ? '' : '--no-compile '}--prefix "$W/peer"`;
  const installer = `${python} -m installer ${compile ? '' : '--no-compile-bytecode '}--destdir "$W/peer" --prefix /`;
  return [
    { key: 'pip', name: compile ? 'pip install' : 'pip install --no-compile', cmd: pip },
    {
      key: 'installer',
      name: compile ? 'python3 -m installer' : 'installer --no-compile-bytecode',
      cmd: installer,
    },
  ];
}

function wheel(name: string, slow: boolean): Scenario[] {
  return [false, true].flatMap((compile) =>
    peersOf(compile).map((peer): Scenario => ({
      id: `wheel-${name}${compile ? '-compile' : ''}-vs-${peer.key}`,
      target: `${name} wheel add + activate${compile ? ' --compile' : ''} ≥ 2× the speed of ${peer.key}`,
      limit: 0.5,
      slow,
      needs: ['dpkg-deb'],
      ...(unavailable ? { unavailable } : {}),
      setup: [extract(name)],
      reset: ['rm -rf "$W/s" "$W/p" "$W/peer"'],
      subject: pstore(name, compile),
      peer: { name: peer.name, cmd: `${peer.cmd} ${wheelOf(name)}` },
    })),
  );
}

export const scenarios: Scenario[] = [
  ...wheel('pip', false),
  ...wheel('setuptools', true),
  ...wheel('wheel', true),
];
