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

/** What the first run knows that recovery does not (recovery leaves both out). */
export interface FirstRun {
  /** the highest generation current.json recorded, read under the lock the caller still holds */
  highest: number;
  /** this run built the generation's tree, every file a hard link of its store object */
  hardLinkedTree: boolean;
}

export async function commitGeneration(
  p: PrefixPaths,
  j: Journal,
  first?: FirstRun,
): Promise<void> {
  if (j.to.newGeneration) {
    const record: GenerationRecord = {
      formatVersion: 1,
      generation: j.to.generation,
      createdAt: j.startedAt,
      ...(j.command === undefined ? {} : { command: j.command }),
      packages: sortPackages(j.to.packages),
      ...(j.overwritten?.length ? { overwritten: j.overwritten } : {}),
      ...(first?.hardLinkedTree ? { hardLinked: true as const } : {}),
    };
    await writeJson(generationFile(p, j.to.generation), record);
  }
  crashpoint('commit:after-generation');
  const recorded = first?.highest ?? (await readCurrent(p)).highest;
  const current: CurrentRecord = {
    formatVersion: 1,
    generation: j.to.generation,
    highest: Math.max(recorded, j.to.generation),
  };
  await writeJson(p.current, current);
  crashpoint('commit:after-current');
  await clearJournal(p);
}
