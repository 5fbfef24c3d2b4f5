// A wheel as an entry (SPEC.md §Wheels): read and validate it completely (structure, RECORD,
// tags) before anything is stored, lay it out in the target interpreter's scheme, add launchers,
// bytecode (--compile), INSTALLER and the installed RECORD. The result is an in-memory file list
// that takes the ordinary ingest path; its .dist-info is a marker unit like any other.

import { PstoreError } from '../../core/errors.js';
import type { InMemoryFile } from '../from-list.js';
import { COMPILE_SERVER, compileModules, compilerArgs } from './compile.js';
import { startInterpreter, type Interpreter, type PythonSession } from './interpreter.js';
import { schemeFor, placeMembers, type Scheme } from './layout.js';
import { launcher } from './launchers.js';
import { parseEntryPoints } from './metadata.js';
import { checkRecord, installedRecord, type PlacedFile } from './record.js';
import { wheelParts, type WheelParts } from './structure.js';
import { expandTags, tagRuns } from './tags.js';
import { readZip } from './zip.js';

export interface WheelOptions {
  /** the target interpreter: a command on PATH or a path (default `python3`) */
  python?: string;
  /** a sysconfig scheme of that interpreter (default: its default scheme) */
  scheme?: string;
  /** scheme key → prefix-relative directory, overriding the interpreter's (purelib, platlib, scripts, headers, data) */
  paths?: Record<string, string>;
  /** add checked-hash .pyc files for the modules in purelib/platlib */
  compile?: boolean;
  /** install even when no tag of the wheel runs on the interpreter */
  ignoreTags?: boolean;
}

export interface PreparedWheel {
  name: string;
  version: string;
  files: InMemoryFile[];
  python: string;
  scheme: Scheme;
  /** .pyc files added by --compile */
  compiled: number;
}

export async function prepareWheel(file: string, opts: WheelOptions): Promise<PreparedWheel> {
  // The interpreter answers while the wheel is read and checked: its start-up is the longer wait.
  // With --compile it stays, waiting for the modules.
  const compiler = opts.compile ? { code: COMPILE_SERVER, args: compilerArgs() } : undefined;
  const session = startInterpreter(opts.python ?? 'python3', opts.scheme, compiler);
  try {
    return await layOut(file, opts, session);
  } finally {
    session.close(); // a bad wheel's error wins over a bad interpreter's; the process exits
  }
}

async function layOut(
  file: string,
  opts: WheelOptions,
  session: PythonSession,
): Promise<PreparedWheel> {
  const parts = wheelParts(file, await readZip(file));
  checkRecord(file, parts);
  const py = await session.described;
  if (!opts.ignoreTags) checkTags(file, parts, py);
  const scheme = schemeFor(py, parts.distName, opts.paths ?? {});
  const files = placeMembers(file, parts, scheme, py.executable);
  files.push(...launchers(parts, scheme, py));
  const libDirs = [scheme.purelib, scheme.platlib];
  const compiled = opts.compile ? await compileModules(session, py, files, libDirs) : [];
  files.push(...compiled);
  const metaDir =
    `${parts.rootIsPurelib ? scheme.purelib : scheme.platlib}/${parts.distInfo}`.replace(/^\//, '');
  files.push({ path: `${metaDir}/INSTALLER`, data: Buffer.from('pstore\n'), exec: false });
  const recordPath = `${metaDir}/RECORD`;
  files.push({ path: recordPath, data: installedRecord(files, recordPath), exec: false });
  return {
    name: parts.name,
    version: parts.version,
    files: files.map((f) => ({ path: f.path, data: f.data, exec: f.exec })),
    python: py.executable,
    scheme,
    compiled: compiled.length,
  };
}

function checkTags(file: string, parts: WheelParts, py: Interpreter): void {
  const tags = expandTags(parts.tags);
  if (tags.some((t) => tagRuns(t, py))) return;
  throw new PstoreError(
    'EPSTORE_INVALID',
    `${file} is built for ${parts.tags.join(', ') || 'no tags'}, which ${py.executable} (${py.implementation} ${py.version.join('.')}, ${py.platform}) cannot run`,
    {
      subject: file,
      hint: 'use --python to target another interpreter, or --ignore-tags',
      data: { tags: parts.tags },
    },
  );
}

function launchers(parts: WheelParts, scheme: Scheme, py: Interpreter): PlacedFile[] {
  const text = parts.members.get(`${parts.distInfo}/entry_points.txt`)?.data.toString('utf8');
  if (text === undefined) return [];
  return parseEntryPoints(text).map((ep) => ({
    path: scheme.scripts === '' ? ep.name : `${scheme.scripts}/${ep.name}`,
    data: launcher(ep, py.executable),
    exec: true,
  }));
}
