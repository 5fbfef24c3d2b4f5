// Lockfiles (SPEC.md §Lockfiles): the active set of a prefix as stable, sorted JSON.
//   { "lockfileVersion": 1, "packages": { "<name>": { "version", "id", "integrity" } } }
// `integrity` is the manifest's ssri sha512; the id is derived from it (first 40 hex digits), so
// a lockfile pins exact content, and a lockfile whose id and integrity disagree is refused.

import { readFileSync } from 'node:fs';
import { PstoreError, environmentError, errnoCode, isDenied } from '../core/errors.js';
import { ENTRY_ID_LENGTH } from '../core/manifest.js';
import { hexOf } from '../core/object-key.js';
import { writeFileAtomic } from '../fs/atomic.js';

const LOCKFILE_VERSION = 1;

/** One package of a lockfile, with its name. */
export interface LockedPackage {
  /** the package name */
  name: string;
  /** the package version */
  version: string;
  /** the entry id (derived from `integrity`) */
  id: string;
  /** ssri integrity (`sha512-BASE64`) of the entry's canonical manifest */
  integrity: string;
}

/** A package set pinned by content: what `pstore lock` writes and `sync`/`push`/`pull` read. */
export interface Lockfile {
  /** the lockfile format; always 1 */
  lockfileVersion: 1;
  /** each package by name */
  packages: Record<
    string,
    {
      /** the package version */
      version: string;
      /** the entry id: the first 40 hex digits of the integrity's sha512 */
      id: string;
      /** ssri integrity (`sha512-BASE64`) of the entry's canonical manifest */
      integrity: string;
    }
  >;
}

export function buildLockfile(pkgs: readonly LockedPackage[]): Lockfile {
  const packages: Lockfile['packages'] = {};
  for (const p of [...pkgs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    packages[p.name] = { version: p.version, id: p.id, integrity: p.integrity };
  }
  return { lockfileVersion: LOCKFILE_VERSION, packages };
}

/**
 * Stable bytes: packages in code-unit order of their names. Written by hand because a JS object
 * puts integer-like keys ("10", "9") before all others whatever the insertion order.
 */
export function serializeLockfile(lock: Lockfile): string {
  const pkgs = lockedPackages(lock).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  const body = pkgs.map(
    (p) =>
      `    ${JSON.stringify(p.name)}: ${JSON.stringify({ version: p.version, id: p.id, integrity: p.integrity }, null, 2).replace(/\n/g, '\n    ')}`,
  );
  return `{\n  "lockfileVersion": ${LOCKFILE_VERSION},\n  "packages": {${body.length ? `\n${body.join(',\n')}\n  ` : ''}}\n}\n`;
}

/** Write a lockfile atomically and durably. */
export async function writeLockfile(file: string, lock: Lockfile): Promise<void> {
  await writeFileAtomic(file, serializeLockfile(lock));
}

/** The lockfile's packages as a list, each with its name. */
export function lockedPackages(lock: Lockfile): LockedPackage[] {
  return Object.entries(lock.packages).map(([name, p]) => ({
    name,
    version: p.version,
    id: p.id,
    integrity: p.integrity,
  }));
}

function invalid(file: string, why: string): PstoreError {
  return new PstoreError('EPSTORE_INVALID', `lockfile ${file}: ${why}`, { subject: file });
}

const SRI_SHA512 = /^sha512-[A-Za-z0-9+/]{86}==$/;

/** Read and validate a lockfile; anything malformed is EPSTORE_INVALID naming the file. */
export async function readLockfile(file: string): Promise<Lockfile> {
  let text: string;
  try {
    // Synchronous: a small file, and a sync with nothing to do makes no promise-based fs call
    // (the first one starts libuv's thread pool: SPEC.md §Start-up cost).
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT')
      throw new PstoreError('EPSTORE_NOT_FOUND', `lockfile ${file} does not exist`, {
        subject: file,
        cause: err,
      });
    // permission (exit 9, naming it) is the environment's, not the lockfile's fault; mapped here,
    // since library callers reach this function without the boundary's guard
    if (isDenied(err)) throw environmentError(err);
    throw invalid(file, `cannot be read (${(err as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw invalid(file, 'is not valid JSON');
  }
  return validateLockfile(raw, file);
}

/**
 * Check parsed JSON (`raw`) as a lockfile: EPSTORE_INVALID naming `file` if malformed, if the
 * version is not 1, or if an `id` disagrees with its integrity. Fills in each package's `id` (on
 * `raw` itself) and returns `raw`.
 */
export function validateLockfile(raw: unknown, file: string): Lockfile {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw invalid(file, 'is not a JSON object');
  const obj = raw as Record<string, unknown>;
  if (obj.lockfileVersion !== LOCKFILE_VERSION)
    throw invalid(
      file,
      `has lockfileVersion ${JSON.stringify(obj.lockfileVersion)}; this pstore reads version ${LOCKFILE_VERSION}`,
    );
  const pkgs = obj.packages;
  if (typeof pkgs !== 'object' || pkgs === null || Array.isArray(pkgs))
    throw invalid(file, '"packages" must be an object keyed by package name');
  for (const [name, p] of Object.entries(pkgs as Record<string, unknown>)) {
    const where = `package ${JSON.stringify(name)}`;
    if (typeof p !== 'object' || p === null) throw invalid(file, `${where} is not an object`);
    const { version, id, integrity } = p as Record<string, unknown>;
    if (typeof version !== 'string' || version === '')
      throw invalid(file, `${where} has no version`);
    if (typeof integrity !== 'string' || !SRI_SHA512.test(integrity))
      throw invalid(file, `${where} has no valid sha512 integrity`);
    const derived = hexOf(integrity).slice(0, ENTRY_ID_LENGTH);
    if (id !== undefined && id !== derived)
      throw invalid(
        file,
        `${where}: id ${JSON.stringify(id)} does not match its integrity (${derived})`,
      );
    (p as Record<string, unknown>).id = derived;
  }
  return raw as Lockfile;
}
