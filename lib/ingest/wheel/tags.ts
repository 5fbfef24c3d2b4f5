// Wheel compatibility tags (PEP 425, the platform tag specs) against one interpreter, after the
// order pip's `packaging.tags` accepts: cpXY with the interpreter's own ABI or `none` only for its
// own version, `abi3` for every CPython 3 version up to it, pyX and pyXY (Y up to its minor) with
// `none`; platforms `any`, its own (`linux_x86_64`) and manylinux tags its glibc satisfies.
// musllinux and other C libraries accept only `any` and the plain platform tag.

import type { Interpreter } from './interpreter.js';

/** Expand compressed tag sets (`py2.py3-none-any`) into triples. */
export function expandTags(tags: readonly string[]): string[] {
  const out: string[] = [];
  for (const tag of tags) {
    const [py = '', abi = '', plat = ''] = tag.split('-');
    for (const p of py.split('.'))
      for (const a of abi.split('.')) for (const pl of plat.split('.')) out.push(`${p}-${a}-${pl}`);
  }
  return out;
}

/** Does one expanded tag run on `py`? */
export function tagRuns(tag: string, py: Interpreter): boolean {
  const [pyTag = '', abi = '', plat = ''] = tag.split('-');
  if (!platformRuns(plat, py)) return false;
  const [major, minor] = py.version;
  const cp = py.implementation === 'cpython';
  const own = `cp${major}${minor}`;
  if (abi === 'none') return pyTag === own && cp ? true : genericRuns(pyTag, major, minor);
  if (abi === 'abi3') return cp && major === 3 && upTo(pyTag, 'cp', major, minor);
  return cp && pyTag === own && abi === `${own}${py.abiflags}`;
}

function genericRuns(pyTag: string, major: number, minor: number): boolean {
  return pyTag === `py${major}` || upTo(pyTag, 'py', major, minor);
}

/** `prefix` + major + a minor up to `minor` (py30 … py311; cp32 … cp311). */
function upTo(pyTag: string, prefix: string, major: number, minor: number): boolean {
  const m = new RegExp(`^${prefix}${major}(\\d+)$`).exec(pyTag);
  return m !== null && Number(m[1]) <= minor;
}

function platformRuns(plat: string, py: Interpreter): boolean {
  if (plat === 'any') return true;
  const own = py.platform.replace(/[-.]/g, '_');
  if (plat === own) return true;
  const arch = /^linux_(.+)$/.exec(own)?.[1];
  if (arch === undefined || py.glibc === null) return false;
  const needs = manylinuxGlibc(plat, arch);
  return needs !== undefined && compareGlibc(py.glibc, needs) >= 0;
}

const LEGACY_MANYLINUX: Record<string, string> = {
  manylinux1: '2.5',
  manylinux2010: '2.12',
  manylinux2014: '2.17',
};

/** The glibc a manylinux tag for `arch` needs, or undefined when it is not one. */
function manylinuxGlibc(plat: string, arch: string): string | undefined {
  if (!plat.endsWith(`_${arch}`)) return undefined;
  const base = plat.slice(0, -arch.length - 1);
  const legacy = LEGACY_MANYLINUX[base];
  if (legacy !== undefined) return legacy;
  const m = /^manylinux_(\d+)_(\d+)$/.exec(base);
  return m ? `${m[1]}.${m[2]}` : undefined;
}

function compareGlibc(have: string, need: string): number {
  const [a1 = 0, a2 = 0] = have.split('.').map(Number);
  const [b1 = 0, b2 = 0] = need.split('.').map(Number);
  return a1 - b1 || a2 - b2;
}
