// Directory listings that treat an absent directory as empty.

import { promises as fsp } from 'node:fs';
import { errnoCode } from '../core/errors.js';

export async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await fsp.readdir(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
}
