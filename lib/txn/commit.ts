// Commit (step f): the generation record, then the current pointer, then the journal goes.
// A crash between any two leaves the journal in place, and recovery re-applies (all no-ops) and
// commits again; the generation file is immutable once current.json has named it.

import { generationFile, type PrefixPaths } from '../prefix/layout.js';
import { sortPackages } from '../core/package-ref.js';
import {
  readCurrent,
  writeJson,
  type CurrentRecord,
  type GenerationRecord,
} from '../prefix/state.js';
import { crashpoint } from '../core/crashpoint.js';
import { clearJournal, type Journal } from './journal.js';

/**
 * `highest`: the highest generation current.json recorded, when the caller read it under the lock it
 * still holds (a first run); recovery leaves it out and current.json is read again.
 */
export async function commitGeneration(
  p: PrefixPaths,
  j: Journal,
  highest?: number,
): Promise<void> {
  if (j.to.newGeneration) {
    const record: GenerationRecord = {
      formatVersion: 1,
      generation: j.to.generation,
      createdAt: j.startedAt,
      ...(j.command === undefined ? {} : { command: j.command }),
      packages: sortPackages(j.to.packages),
      ...(j.overwritten?.length ? { overwritten: j.overwritten } : {}),
    };
    await writeJson(generationFile(p, j.to.generation), record);
  }
  crashpoint('commit:after-generation');
  const recorded = highest ?? (await readCurrent(p)).highest;
  const current: CurrentRecord = {
    formatVersion: 1,
    generation: j.to.generation,
    highest: Math.max(recorded, j.to.generation),
  };
  await writeJson(p.current, current);
  crashpoint('commit:after-current');
  await clearJournal(p);
}
