// JSON state files: written whole (tmp + rename, fsynced), read through one schema per format.
// A file that is present but is not what its format says — not JSON, `null`, `{}`, `[]`, a field
// of the wrong type — is EPSTORE_INTEGRITY naming the file: callers never see a half-trusted value
// (a NaN generation, a journal without its sets), and no caller treats damage as "absent".
//
// Schemas are valibot's: small, no dependencies, tree-shaken imports (CLI start-up stays cheap),
// and its issues name the offending field, which the error carries in `data.issues`.

import { promises as fsp, readFileSync } from 'node:fs';
import path from 'node:path';
import * as v from 'valibot';
import { PstoreError, errnoCode } from '../core/errors.js';
import { PendingFile, writeFileAtomic } from './atomic.js';

export type Schema<T> = v.GenericSchema<unknown, T>;

/** The file's text, or undefined when it (or its directory) does not exist. */
async function readTextIfPresent(file: string): Promise<string | undefined> {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
    throw err;
  }
}

export function damaged(
  file: string,
  why: string,
  extra: { cause?: unknown; issues?: string[] } = {},
): PstoreError {
  return new PstoreError('EPSTORE_INTEGRITY', `${file} is damaged (${why})`, {
    subject: file,
    ...(extra.cause === undefined ? {} : { cause: extra.cause }),
    data: { reason: 'corrupt', ...(extra.issues ? { issues: extra.issues } : {}) },
  });
}

/** Parse JSON without checking its shape (only for formats that have no schema yet). */
export async function readJson<T>(file: string): Promise<T | undefined> {
  const text = await readTextIfPresent(file);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw damaged(file, 'not JSON', { cause: err });
  }
}

/** Read and check a state file: undefined if absent, EPSTORE_INTEGRITY naming it if malformed. */
export async function readJsonAs<T>(file: string, schema: Schema<T>): Promise<T | undefined> {
  const raw = await readJson<unknown>(file);
  if (raw === undefined) return undefined;
  const parsed = v.safeParse(schema, raw);
  if (parsed.success) return parsed.output;
  const issues = parsed.issues.map((i) => `${v.getDotPath(i) ?? '(top)'}: ${i.message}`);
  throw damaged(file, `not a valid ${path.basename(file)}: ${issues[0]}`, { issues });
}

/** A state file, atomically and durably (writeFileAtomic; `syncDir` as there). */
export async function writeJson(
  file: string,
  value: unknown,
  opts: { syncDir?: boolean } = {},
): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, jsonText(value), 0o644, opts);
}

/**
 * writeJson (without the directory's fsync) whose rename waits for the caller: PendingFile. The
 * directory must exist.
 */
export function pendingJson(file: string, value: unknown): PendingFile {
  return new PendingFile(file, jsonText(value));
}

function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
