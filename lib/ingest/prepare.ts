// What `add` is given, made ready to ingest (SPEC.md §Input formats): a wheel or a Debian package
// is recognised by its first bytes and brings its own name and version; every other source needs
// --name and --version; a format that is not a tar (xz, bzip2, zstd here, an ar archive, a zip on
// stdin) is refused before anything is locked or written, saying what it is.

import path from 'node:path';
import type { Readable } from 'node:stream';
import { PstoreError } from '../core/errors.js';
import type { ProgressListener } from '../core/types.js';
import type { InMemoryFile } from './from-list.js';
import { formatOf, peekStream, refusal, sniffFile } from './detect.js';
import type { Scheme } from './wheel/layout.js';
import type { WheelOptions } from './wheel/wheel.js';

/** A path (directory, .tar, .tar.gz/.tgz, .whl, .deb), a tar stream, or files given in memory. */
export type AddSource =
  | string
  | {
      /** an uncompressed tar stream */
      tar: Readable;
      /** how messages name the stream (default `tar stream`) */
      label?: string;
      /** the stream's length in bytes, when known: progress events then carry `totalBytes` */
      size?: number;
    }
  | {
      /** the entry's paths and their contents */
      files: InMemoryFile[];
    };

/** Options of {@link Store.add}: the entry's identity, and (for a wheel) how to install it. */
export interface AddOptions extends WheelOptions {
  /** required unless the source is a wheel or a .deb, which name themselves (then it must agree) */
  name?: string;
  /** required unless the source is a wheel or a .deb (then it must agree) */
  version?: string;
  /** marker globs (relative to the prefix root) naming files that show an activated package */
  markers?: string[];
  /** receives `ingest` events while files are hashed */
  onProgress?: ProgressListener;
  /**
   * stop with EPSTORE_ABORTED, checked as files are hashed (at most 100 ms apart) and before the
   * entry is recorded; no entry is recorded (objects written so far stay unreferenced until gc)
   */
  signal?: AbortSignal;
}

/** How a wheel or a .deb was installed into the entry (absent for trees and tars). */
export type AddOrigin =
  | {
      /** a Python wheel, installed for an interpreter */
      format: 'wheel';
      /** the interpreter's executable, absolute */
      python: string;
      /** the prefix-relative directories the wheel was installed into */
      scheme: Scheme;
      /** .pyc files added (with `compile`) */
      compiled: number;
    }
  | {
      /** a Debian package's file tree */
      format: 'deb';
    };

export interface PreparedSource {
  source: AddSource;
  name: string;
  version: string;
  /** settles once the source's producer has finished (dpkg-deb's exit) */
  done?: Promise<void>;
  origin?: AddOrigin;
}

export async function prepareSource(source: AddSource, opts: AddOptions): Promise<PreparedSource> {
  const abs = typeof source === 'string' ? path.resolve(source) : undefined;
  const format = abs === undefined ? undefined : await sniffFile(abs);
  if (abs !== undefined && format === 'zip') return prepareWheelSource(abs, opts);
  if (abs !== undefined && format === 'deb') return prepareDeb(abs, opts);
  const { name, version } = requireIdentity(opts);
  refuseWheelOptions(opts);
  if (abs !== undefined) {
    const refused = format && refusal(format, abs, false);
    if (refused) throw refused;
    return { source, name, version };
  }
  if (typeof source !== 'string' && 'tar' in source) {
    const label = source.label ?? 'tar stream';
    const { head, stream } = await peekStream(source.tar);
    const refused = refusal(formatOf(head), label, true);
    if (refused) {
      stream.destroy();
      throw refused;
    }
    return { source: { tar: stream, label }, name, version };
  }
  return { source, name, version };
}

async function prepareWheelSource(file: string, opts: AddOptions): Promise<PreparedSource> {
  const { prepareWheel } = await import('./wheel/wheel.js');
  const wheel = await prepareWheel(file, opts);
  agree(opts, wheel, 'the wheel', normalizeDistName);
  return {
    source: { files: wheel.files },
    name: wheel.name,
    version: wheel.version,
    origin: {
      format: 'wheel',
      python: wheel.python,
      scheme: wheel.scheme,
      compiled: wheel.compiled,
    },
  };
}

async function prepareDeb(file: string, opts: AddOptions): Promise<PreparedSource> {
  refuseWheelOptions(opts);
  const { debIdentity, debPayload } = await import('./deb.js');
  const id = await debIdentity(file);
  agree(opts, id, 'the package', (s) => s);
  const payload = debPayload(file);
  return {
    source: { tar: payload.tar, label: file },
    ...id,
    done: payload.done,
    origin: { format: 'deb' },
  };
}

/** --name and --version, given for a source that does not name itself. */
function requireIdentity(opts: AddOptions): { name: string; version: string } {
  for (const flag of ['name', 'version'] as const) {
    const v = opts[flag];
    if (typeof v !== 'string' || v === '')
      throw new PstoreError('EPSTORE_USAGE', `add: --${flag} is required`, {
        subject: `--${flag}`,
        hint: 'see pstore add --help',
      });
  }
  return { name: opts.name!, version: opts.version! };
}

function refuseWheelOptions(opts: AddOptions): void {
  const given = (['python', 'scheme', 'paths', 'compile', 'ignoreTags'] as const).filter(
    (k) => opts[k] !== undefined && opts[k] !== false,
  );
  if (given.length)
    throw new PstoreError('EPSTORE_USAGE', `add: --${flagName(given[0]!)} applies only to wheels`, {
      subject: `--${flagName(given[0]!)}`,
    });
}

function flagName(option: string): string {
  return option === 'paths' ? 'path' : option === 'ignoreTags' ? 'ignore-tags' : option;
}

/** Given --name/--version must say what the package says of itself. */
function agree(
  opts: AddOptions,
  own: { name: string; version: string },
  what: string,
  normalize: (name: string) => string,
): void {
  if (opts.name && normalize(opts.name) !== normalize(own.name))
    throw new PstoreError(
      'EPSTORE_USAGE',
      `--name ${opts.name} disagrees with ${what}'s name ${own.name}`,
      {
        subject: '--name',
      },
    );
  if (opts.version && opts.version !== own.version)
    throw new PstoreError(
      'EPSTORE_USAGE',
      `--version ${opts.version} disagrees with ${what}'s version ${own.version}`,
      {
        subject: '--version',
      },
    );
}

/** PEP 503: names that differ only in case and runs of `-_.` are one distribution. */
function normalizeDistName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}
