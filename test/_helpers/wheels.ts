// Wheels generated for tests (no network, nothing large committed): members described in TS, the
// RECORD computed here (so tests can falsify it), the zip written by python3's zipfile with fixed
// timestamps. Hostile tweaks: `tamper` changes a member after RECORD was made, `record` edits the
// RECORD rows, `extra` appends raw members (absolute, `../`, duplicates) that RECORD does not list.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';

export type Member = string | Buffer | { data: string | Buffer; mode: number };

export interface WheelSpec {
  name: string;
  version: string;
  /** members at the wheel's root (packages, modules), by path */
  files?: Record<string, Member>;
  /** members under NAME-VERSION.data/ (`scripts/x`, `data/share/y`, `headers/z.h`) */
  data?: Record<string, Member>;
  /** entry_points.txt */
  entryPoints?: string;
  rootIsPurelib?: boolean;
  tag?: string;
  wheelVersion?: string;
  /** bytes replacing a member after RECORD was computed */
  tamper?: Record<string, string>;
  /** edit RECORD's rows ([path, hash, size]) before it is written */
  record?: (rows: string[][]) => string[][];
  /** raw members appended after everything else (not in RECORD) */
  extra?: Array<{ name: string; data: string | Buffer }>;
  /** leave out the .dist-info entirely (a zip that is not a wheel) */
  noDistInfo?: boolean;
}

const WRITER = String.raw`
import base64, json, sys, zipfile, warnings
warnings.simplefilter('ignore')
spec = json.load(sys.stdin)
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:
    for m in spec:
        info = zipfile.ZipInfo(m['name'], date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = (0o100000 | m['mode']) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, base64.b64decode(m['data']))
`;

function bytesOf(m: Member): { data: Buffer; mode: number } {
  if (typeof m === 'string') return { data: Buffer.from(m), mode: 0o644 };
  if (Buffer.isBuffer(m)) return { data: m, mode: 0o644 };
  return { data: Buffer.from(m.data), mode: m.mode };
}

function recordRow(name: string, data: Buffer): string[] {
  return [
    name,
    `sha256=${createHash('sha256').update(data).digest('base64url')}`,
    String(data.length),
  ];
}

function csv(rows: string[][]): string {
  return rows
    .map(
      (r) => r.map((f) => (/[",\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f)).join(',') + '\n',
    )
    .join('');
}

/** Write the wheel into `dir`; returns its path (NAME-VERSION-TAG.whl). */
export function buildWheel(dir: string, spec: WheelSpec): string {
  const dist = `${spec.name.replace(/[-.]+/g, '_')}-${spec.version}`;
  const tag = spec.tag ?? 'py3-none-any';
  const members: Array<{ name: string; data: Buffer; mode: number }> = [];
  for (const [p, m] of Object.entries(spec.files ?? {})) members.push({ name: p, ...bytesOf(m) });
  for (const [p, m] of Object.entries(spec.data ?? {}))
    members.push({ name: `${dist}.data/${p}`, ...bytesOf(m) });
  if (!spec.noDistInfo) {
    const info = (n: string, text: string): void =>
      void members.push({ name: `${dist}.dist-info/${n}`, data: Buffer.from(text), mode: 0o644 });
    info(
      'METADATA',
      `Metadata-Version: 2.1\nName: ${spec.name}\nVersion: ${spec.version}\nSummary: test\n\nA long description.\n`,
    );
    info(
      'WHEEL',
      `Wheel-Version: ${spec.wheelVersion ?? '1.0'}\nGenerator: pstore-test\nRoot-Is-Purelib: ${spec.rootIsPurelib ?? true}\nTag: ${tag}\n`,
    );
    if (spec.entryPoints) info('entry_points.txt', spec.entryPoints);
    let rows = members.map((m) => recordRow(m.name, m.data));
    rows.push([`${dist}.dist-info/RECORD`, '', '']);
    if (spec.record) rows = spec.record(rows);
    members.push({ name: `${dist}.dist-info/RECORD`, data: Buffer.from(csv(rows)), mode: 0o644 });
  }
  for (const [name, text] of Object.entries(spec.tamper ?? {})) {
    const m = members.find((x) => x.name === name);
    if (!m) throw new Error(`tamper: no member ${name}`);
    m.data = Buffer.from(text);
  }
  for (const e of spec.extra ?? [])
    members.push({ name: e.name, data: Buffer.from(e.data), mode: 0o644 });
  const file = path.join(dir, `${dist}-${tag}.whl`);
  const input = JSON.stringify(
    members.map((m) => ({ name: m.name, mode: m.mode, data: m.data.toString('base64') })),
  );
  execFileSync('python3', ['-c', WRITER, file], { input, maxBuffer: 1024 ** 3 });
  return file;
}

/** A wheel exercising every layout case: nested packages, non-ASCII names, .data keys, scripts. */
export function fullWheel(dir: string, version = '1.0', extra: Partial<WheelSpec> = {}): string {
  return buildWheel(dir, {
    name: 'demo-pkg',
    version,
    files: {
      'demo_pkg/__init__.py': `VERSION = '${version}'\n\ndef main():\n    print('demo ${version}')\n    return 0\n`,
      'demo_pkg/sub/__init__.py': '',
      'demo_pkg/sub/deep/mod.py': `X = ${JSON.stringify(version)}\n`,
      'demo_pkg/données/café.txt': 'non-ASCII names\n',
      'demo_pkg/sub/deep/ünï.py': `Y = 1\n`,
    },
    data: {
      'scripts/demo-script': {
        data: '#!python\nimport demo_pkg\nprint("script", demo_pkg.VERSION)\n',
        mode: 0o755,
      },
      'scripts/plain.sh': { data: '#!/bin/sh\necho plain\n', mode: 0o755 },
      'data/share/demo/readme.txt': 'shared data\n',
      'headers/demo.h': '#define DEMO 1\n',
      'purelib/demo_extra.py': 'EXTRA = 1\n',
    },
    entryPoints:
      '[console_scripts]\ndemo-cli = demo_pkg:main\n\n[gui_scripts]\ndemo-gui = demo_pkg:main\n\n[other.group]\nignored = x:y\n',
    ...extra,
  });
}

/**
 * An interpreter that has the `installer` module (the reference these tests compare with): the
 * `python3` on PATH, else Debian's /usr/bin/python3 (apt-get install python3-installer).
 */
export function installerPython(): string | undefined {
  for (const py of ['python3', '/usr/bin/python3']) {
    try {
      execFileSync(py, ['-c', 'import installer'], { stdio: 'ignore' });
      return py;
    } catch {
      // not this one
    }
  }
  return undefined;
}

/** The site directory (purelib) of `python` under `prefix`, as pstore and installer lay it out. */
export function purelibOf(python: string, prefix: string): string {
  const rel = execFileSync(
    python,
    [
      '-I',
      '-c',
      "import sysconfig; print(sysconfig.get_paths(vars={'base': '/', 'platbase': '/'})['purelib'])",
    ],
    { encoding: 'utf8' },
  ).trim();
  return path.join(prefix, rel);
}

/** Real wheels of the corpus (pip, setuptools, wheel from Debian's python3-*-whl), unpacked into `dir`. */
export function corpusWheels(debs: readonly string[], dir: string): string[] {
  for (const deb of debs) execFileSync('dpkg-deb', ['-x', deb, dir]);
  const wheels = path.join(dir, 'usr', 'share', 'python-wheels');
  return execFileSync('find', [wheels, '-name', '*.whl'], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .sort();
}
