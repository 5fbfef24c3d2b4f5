import { PstoreError } from '../../lib/index.js';
import type { Command } from '../command.js';
import { requirePositionals, requireString } from '../command.js';

export const add: Command = {
  name: 'add',
  summary: 'ingest a staged tree or tar archive into the store as one entry',
  usage: 'pstore add SOURCE --name NAME --version VERSION [--marker GLOB]...',
  help: [
    'SOURCE           a directory (its root maps to the prefix root), a .tar, .tar.gz/.tgz, or - for a tar on stdin',
    '--name NAME      package name',
    '--version V      package version (free-form: 1:1.24.2-1+deb12u1, 1.0rc1, 2.0.0-beta)',
    '--marker GLOB    extra metadata-marker glob for this entry (repeatable)',
    'Prints the entry id. --json: {id, name, version, integrity, files, bytes, ...}',
  ],
  options: {
    name: { type: 'string' },
    version: { type: 'string' },
    marker: { type: 'string', multiple: true },
  },
  async run({ positionals, values, out, store }) {
    requirePositionals(positionals, 1, 1, 'SOURCE', 'add');
    const name = requireString(values, 'name', 'add');
    const version = requireString(values, 'version', 'add');
    const src = positionals[0]!;
    if (src === '-' && process.stdin.isTTY) {
      // As GNU tar does: waiting for a terminal to type an archive helps nobody.
      throw new PstoreError(
        'EPSTORE_USAGE',
        'add: stdin is a terminal; pipe a tar into it (… | pstore add - --name N --version V)',
        { subject: '-' },
      );
    }
    const source = src === '-' ? { tar: process.stdin, label: 'stdin' } : src;
    const progress = out.progress();
    const r = await store().add(source, {
      name,
      version,
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
      },
      () => (out.mode.quiet ? [] : r.id),
    );
  },
};
