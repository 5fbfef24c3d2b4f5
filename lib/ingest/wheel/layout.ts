// Where each wheel member goes under the prefix root (the binary distribution format spec, as
// `python -m installer --prefix /` lays it out): the root and the .dist-info into purelib or
// platlib (Root-Is-Purelib), `.data/KEY/…` into that key's directory, headers under the
// distribution's name. Paths are prefix-relative; `--path KEY=RELPATH` overrides one key.

import path from 'node:path';
import { PstoreError } from '../../core/errors.js';
import { normalizeMemberPath } from '../../core/safe-path.js';
import type { Interpreter } from './interpreter.js';
import { rewriteShebang } from './launchers.js';
import type { PlacedFile } from './record.js';
import type { WheelParts } from './structure.js';
import { badZip } from './zip.js';

import { SCHEME_KEYS, type Scheme, type SchemeKey } from './scheme.js';

export { SCHEME_KEYS, type Scheme, type SchemeKey };

/** The interpreter's scheme for this distribution, with the caller's overrides. */
export function schemeFor(
  py: Interpreter,
  distName: string,
  overrides: Record<string, string>,
): Scheme {
  const scheme: Scheme = {
    purelib: py.paths.purelib,
    platlib: py.paths.platlib,
    scripts: py.paths.scripts,
    headers: path.posix.join(py.paths.include, distName),
    data: py.paths.data,
  };
  for (const [key, rel] of Object.entries(overrides)) {
    if (!(SCHEME_KEYS as readonly string[]).includes(key))
      throw new PstoreError(
        'EPSTORE_USAGE',
        `--path ${key}=…: the key must be one of ${SCHEME_KEYS.join(', ')}`,
        {
          subject: '--path',
        },
      );
    scheme[key as SchemeKey] = normalizeMemberPath(rel);
  }
  return scheme;
}

/** Every member at its installed path; `.data/scripts` shebangs rewritten for `executable`. */
export function placeMembers(
  file: string,
  parts: WheelParts,
  scheme: Scheme,
  executable: string,
): PlacedFile[] {
  const root = parts.rootIsPurelib ? scheme.purelib : scheme.platlib;
  const placed: PlacedFile[] = [];
  for (const [p, member] of parts.members) {
    if (p === `${parts.distInfo}/RECORD`) continue; // rewritten for the installed paths
    if (p.startsWith(`${parts.distInfo}/RECORD.`)) continue; // signatures of the wheel's RECORD
    if (!p.startsWith(`${parts.dataDir}/`)) {
      placed.push({ path: join(root, p), data: member.data, exec: member.exec });
      continue;
    }
    const [key = '', ...rest] = p.slice(parts.dataDir.length + 1).split('/');
    if (!(SCHEME_KEYS as readonly string[]).includes(key) || rest.length === 0)
      throw badZip(
        file,
        `has ${JSON.stringify(p)}: ${parts.dataDir}/ may hold only ${SCHEME_KEYS.join(', ')}`,
        undefined,
        p,
      );
    const data = key === 'scripts' ? rewriteShebang(member.data, executable) : member.data;
    placed.push({ path: join(scheme[key as SchemeKey], rest.join('/')), data, exec: member.exec });
  }
  return placed;
}

function join(dir: string, rel: string): string {
  return dir === '' ? rel : `${dir}/${rel}`;
}
