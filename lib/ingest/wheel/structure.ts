// What makes a zip a wheel (the binary distribution format spec): exactly one top-level
// `NAME-VERSION.dist-info/` holding WHEEL, METADATA and RECORD; `Wheel-Version` 1.x; Name and
// Version in METADATA. Each failure says what is missing (EPSTORE_BAD_ARCHIVE) or unsupported
// (EPSTORE_INVALID), naming the wheel.

import path from 'node:path';
import { PstoreError } from '../../core/errors.js';
import { parseHeaders } from './metadata.js';
import { badZip, type ZipMember } from './zip.js';

export interface WheelParts {
  /** the .dist-info directory (top level) */
  distInfo: string;
  /** the `.data` directory beside it */
  dataDir: string;
  /** the distribution name as the directories spell it (the headers directory's name) */
  distName: string;
  name: string;
  version: string;
  rootIsPurelib: boolean;
  /** tags from WHEEL's Tag lines, else from the file name */
  tags: string[];
  members: Map<string, ZipMember>;
}

export function wheelParts(file: string, list: readonly ZipMember[]): WheelParts {
  const members = new Map(list.map((m) => [m.path, m]));
  const distInfo = onlyDistInfo(file, list);
  const text = (name: string): string => {
    const m = members.get(`${distInfo}/${name}`);
    if (!m) throw badZip(file, `is not a wheel: ${distInfo}/ has no ${name} file`);
    return m.data.toString('utf8');
  };
  const wheel = parseHeaders(text('WHEEL'));
  checkWheelVersion(file, wheel.get('wheel-version')?.[0]);
  const meta = parseHeaders(text('METADATA'));
  text('RECORD');
  const name = meta.get('name')?.[0];
  const version = meta.get('version')?.[0];
  if (!name || !version)
    throw badZip(file, `is not a wheel: ${distInfo}/METADATA has no ${name ? 'Version' : 'Name'}`);
  const distName = distInfo.slice(0, distInfo.indexOf('-'));
  return {
    distInfo,
    dataDir: `${distInfo.slice(0, -'.dist-info'.length)}.data`,
    distName,
    name,
    version,
    rootIsPurelib: (wheel.get('root-is-purelib')?.[0] ?? 'true').toLowerCase() === 'true',
    tags: wheel.get('tag') ?? tagsFromFileName(file),
    members,
  };
}

function onlyDistInfo(file: string, list: readonly ZipMember[]): string {
  const dirs = new Set<string>();
  for (const m of list) {
    const top = m.path.split('/')[0]!;
    if (top.endsWith('.dist-info') && m.path.includes('/')) dirs.add(top);
  }
  if (dirs.size === 0)
    throw badZip(file, 'is a zip archive but not a wheel: it has no .dist-info directory');
  if (dirs.size > 1)
    throw badZip(
      file,
      `is not a wheel: it has ${dirs.size} .dist-info directories (${[...dirs].sort().join(', ')})`,
    );
  const dir = [...dirs][0]!;
  if (!/^[^-]+-[^-]+\.dist-info$/.test(dir))
    throw badZip(file, `is not a wheel: ${dir} is not named NAME-VERSION.dist-info`);
  return dir;
}

function checkWheelVersion(file: string, value: string | undefined): void {
  const m = value === undefined ? null : /^(\d+)\.(\d+)$/.exec(value);
  if (!m) throw badZip(file, `is not a wheel: WHEEL has no valid Wheel-Version`);
  if (Number(m[1]) > 1)
    throw new PstoreError(
      'EPSTORE_INVALID',
      `${file} has Wheel-Version ${value}; pstore installs wheels of version 1.x`,
      { subject: file },
    );
}

/** `NAME-VER(-BUILD)?-PY-ABI-PLAT.whl` → [`PY-ABI-PLAT`] */
function tagsFromFileName(file: string): string[] {
  const parts = path
    .basename(file)
    .replace(/\.whl$/i, '')
    .split('-');
  return parts.length >= 5 ? [parts.slice(-3).join('-')] : [];
}
