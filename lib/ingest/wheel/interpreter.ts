// The target interpreter, asked once per add (nothing is cached across processes: an upgraded
// Python must never be described by a stale answer). One `python -I -c` prints, as JSON, the
// scheme's paths with every base set to `/` (so they are prefix-relative, as
// `python -m installer --prefix /` computes them), and what wheel tags and bytecode need.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { PstoreError, errnoCode } from '../../core/errors.js';

const execFileP = promisify(execFile);

export interface Interpreter {
  /** sys.executable: the path launchers' and scripts' shebangs name */
  executable: string;
  scheme: string;
  /** purelib, platlib, scripts, data, include, relative to the prefix root ('' is the root) */
  paths: Record<'purelib' | 'platlib' | 'scripts' | 'data' | 'include', string>;
  version: [number, number];
  /** sys.implementation.name, e.g. cpython */
  implementation: string;
  abiflags: string;
  /** sysconfig.get_platform(), e.g. linux-x86_64 */
  platform: string;
  /** glibc version (e.g. 2.36), or null on other C libraries */
  glibc: string | null;
  /** sys.implementation.cache_tag, e.g. cpython-311 (the .pyc name's middle part) */
  cacheTag: string;
}

const PROBE = String.raw`
import json, os, sys, sysconfig
names = sysconfig.get_scheme_names()
default = getattr(sysconfig, 'get_default_scheme', None) or sysconfig._get_default_scheme
scheme = sys.argv[1] or default()
if scheme not in names:
    print(json.dumps({'unknownScheme': scheme, 'schemes': sorted(names)}))
    sys.exit(0)
base = {'base': '/', 'platbase': '/', 'installed_base': '/', 'installed_platbase': '/'}
paths = sysconfig.get_paths(scheme=scheme, vars=base)
try:
    glibc = os.confstr('CS_GNU_LIBC_VERSION').split()[1]
except (AttributeError, ValueError, OSError, IndexError):
    glibc = None
print(json.dumps({
    'executable': sys.executable, 'scheme': scheme,
    'paths': {k: paths[k] for k in ('purelib', 'platlib', 'scripts', 'data', 'include')},
    'version': list(sys.version_info[:2]), 'implementation': sys.implementation.name,
    'abiflags': getattr(sys, 'abiflags', ''), 'platform': sysconfig.get_platform(),
    'glibc': glibc, 'cacheTag': sys.implementation.cache_tag,
}))
`;

/** Describe `python` (a command on PATH or a path) with `scheme` (default: its own default). */
export async function probeInterpreter(python: string, scheme?: string): Promise<Interpreter> {
  let stdout: string;
  try {
    ({ stdout } = await execFileP(python, ['-I', '-c', PROBE, scheme ?? ''], {
      maxBuffer: 1024 * 1024,
    }));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'EACCES')
      throw new PstoreError('EPSTORE_NOT_FOUND', `the interpreter ${python} is not found`, {
        subject: python,
        hint: 'give one with --python PATH',
        cause: err,
      });
    throw new PstoreError(
      'EPSTORE_INVALID',
      `${python} does not answer as a Python 3 interpreter`,
      {
        subject: python,
        cause: err,
      },
    );
  }
  const answer = JSON.parse(stdout) as Interpreter & { unknownScheme?: string; schemes?: string[] };
  if (answer.unknownScheme !== undefined)
    throw new PstoreError(
      'EPSTORE_USAGE',
      `--scheme ${answer.unknownScheme} is not a scheme of ${python} (${answer.schemes!.join(', ')})`,
      { subject: '--scheme' },
    );
  for (const key of Object.keys(answer.paths) as Array<keyof Interpreter['paths']>)
    answer.paths[key] = relativeToRoot(answer.paths[key]);
  return answer;
}

/** `//lib/python3.11/site-packages` → `lib/python3.11/site-packages`; `/` → `` */
function relativeToRoot(p: string): string {
  return p
    .split('/')
    .filter((part) => part !== '' && part !== '.')
    .join('/');
}
