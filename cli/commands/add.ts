import { PstoreError, type AddOptions } from '../../lib/index.js';
import type { Command } from '../command.js';
import { oneOperand, type CommandContext, LOCKING_BUILTINS } from '../command.js';
import { stdinSize } from '../stdin.js';

export const add: Command = {
  name: 'add',
  builtins: [...LOCKING_BUILTINS, 'node:zlib'],
  summary: 'ingest a staged tree, tar archive, wheel or .deb into the store as one entry',
  usage:
    'pstore add SOURCE --name NAME --version VERSION [--marker GLOB]...\n' +
    '       pstore add FILE.whl [--python PY] [--scheme NAME] [--path KEY=RELPATH]... [--compile] [--ignore-tags]\n' +
    '       pstore add FILE.deb',
  help: [
    'SOURCE           a directory (its root maps to the prefix root), a .tar, .tar.gz/.tgz, or - for a tar on stdin',
    '--name NAME      package name',
    '--version V      package version (free-form: 1:1.24.2-1+deb12u1, 1.0rc1, 2.0.0-beta)',
    '--marker GLOB    extra metadata-marker glob for this entry (repeatable)',
    'A wheel (.whl) or a Debian package (.deb) names itself: --name and --version are optional and must agree.',
    "Wheels are laid out in the target interpreter's scheme, relative to the prefix root:",
    '--python PY      the target interpreter (default python3 on PATH)',
    '--scheme NAME    a sysconfig scheme of that interpreter (default: its default scheme)',
    '--path KEY=REL   put a scheme key (purelib, platlib, scripts, headers, data) at REL (repeatable)',
    '--compile        add checked-hash .pyc files (PEP 552): the same bytes on every machine',
    '--ignore-tags    install a wheel whose tags do not match the interpreter',
    'Prints the entry id. --json: {id, name, version, integrity, files, bytes, ...;',
    '  for a wheel also format, python, scheme, compiled; for a .deb format}',
  ],
  options: {
    name: { type: 'string' },
    version: { type: 'string' },
    marker: { type: 'string', multiple: true },
    python: { type: 'string' },
    scheme: { type: 'string' },
    path: { type: 'string', multiple: true },
    compile: { type: 'boolean' },
    'ignore-tags': { type: 'boolean' },
  },
  operands: oneOperand('SOURCE'),
  async run({ positionals, values, out, store }) {
    const src = positionals[0]!;
    if (src === '-' && process.stdin.isTTY) {
      // As GNU tar does: waiting for a terminal to type an archive helps nobody.
      throw new PstoreError(
        'EPSTORE_USAGE',
        'add: stdin is a terminal; pipe a tar into it (… | pstore add - --name N --version V)',
        { subject: '-' },
      );
    }
    const size = src === '-' ? stdinSize() : undefined;
    const source =
      src === '-' ? { tar: process.stdin, label: 'stdin', ...(size ? { size } : {}) } : src;
    const progress = out.progress();
    const r = await store().add(source, {
      ...identityOptions(values),
      ...wheelOptions(values),
      markers: (values.marker as string[] | undefined) ?? [],
      ...(progress ? { onProgress: progress } : {}),
    });
    out.result(
      {
        id: r.id,
        name: r.name,
        version: r.version,
        integrity: r.integrity,
        files: r.files,
        bytes: r.bytes,
        dirs: r.dirs,
        symlinks: r.symlinks,
        objectsWritten: r.objectsWritten,
        ...(r.origin ?? {}),
      },
      () => (out.mode.quiet ? [] : r.id),
    );
  },
};

/** --name and --version when given (a wheel or .deb names itself; the library requires them otherwise). */
function identityOptions(values: CommandContext['values']): { name?: string; version?: string } {
  const { name, version } = values;
  return {
    ...(typeof name === 'string' && name !== '' ? { name } : {}),
    ...(typeof version === 'string' && version !== '' ? { version } : {}),
  };
}

function wheelOptions(values: CommandContext['values']): AddOptions {
  const paths: Record<string, string> = {};
  for (const spec of (values.path as string[] | undefined) ?? []) {
    const eq = spec.indexOf('=');
    if (eq <= 0)
      throw new PstoreError('EPSTORE_USAGE', `add: --path ${spec} is not KEY=RELPATH`, {
        subject: '--path',
        hint: 'e.g. --path purelib=usr/lib/python3/dist-packages',
      });
    paths[spec.slice(0, eq)] = spec.slice(eq + 1);
  }
  return {
    ...(typeof values.python === 'string' ? { python: values.python } : {}),
    ...(typeof values.scheme === 'string' ? { scheme: values.scheme } : {}),
    ...(Object.keys(paths).length ? { paths } : {}),
    ...(values.compile === true ? { compile: true } : {}),
    ...(values['ignore-tags'] === true ? { ignoreTags: true } : {}),
  };
}
