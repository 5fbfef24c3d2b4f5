// The optional JSON files pstore reads for a remote (its own config, Docker's config.json): absent
// is not an error, anything that is not JSON is EPSTORE_INVALID naming the file.

import { promises as fsp } from 'node:fs';
import { errnoCode, PstoreError } from '../../core/errors.js';

/** An EPSTORE_INVALID naming `file` (`what` says which kind of file it is). */
export function invalidFile(what: string, file: string, why: string): PstoreError {
  return new PstoreError('EPSTORE_INVALID', `${what} ${file}: ${why}`, { subject: file });
}

/** The parsed JSON of `file`, or undefined when there is no such file. */
export async function readOptionalJson(what: string, file: string): Promise<unknown> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw invalidFile(what, file, 'is not JSON');
  }
}
