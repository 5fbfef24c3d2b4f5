// The committed state of a prefix, as files in its state directory (SPEC.md §Prefix state):
// prefix.json (layout, store), current.json (the current generation) and generations/N.json
// (immutable records). All are written atomically and fsynced, so readers need no lock; each has
// one reader here that checks its schema (lib/fs/json-file.ts: damage is EPSTORE_INTEGRITY).

import { pathExists } from '../fs/exists.js';
import * as v from 'valibot';
import { PstoreError } from '../core/errors.js';
import { damaged, readJson, readJsonAs, pendingJson, writeJson } from '../fs/json-file.js';
import { LAYOUT_KINDS, TEMP_PREFIX } from '../core/names.js';
import { PackageListSchema } from '../core/package-ref.js';
import { readdirOrEmpty } from '../fs/dir.js';
import { allSettledInOrder } from '../core/settle.js';
import { generationFile, prefixPaths, type PrefixPaths } from './layout.js';
import { SavedPathListSchema } from './overwritten.js';

export { readJson, pendingJson, writeJson };

const generationNumber = v.pipe(v.number(), v.integer(), v.minValue(0));
const layoutKind = v.picklist(LAYOUT_KINDS);

export const GenerationNumberSchema = generationNumber;
export const LayoutSchema = layoutKind;

const PrefixRecordSchema = v.object({
  formatVersion: v.literal(1),
  layout: layoutKind,
  store: v.pipe(v.string(), v.minLength(1)),
  createdAt: v.string(),
});

const CurrentRecordSchema = v.pipe(
  v.object({
    formatVersion: v.literal(1),
    generation: generationNumber,
    highest: generationNumber,
  }),
  v.check((c) => c.highest >= c.generation, 'highest is below the current generation'),
);

const GenerationRecordSchema = v.object({
  formatVersion: v.literal(1),
  generation: v.pipe(generationNumber, v.minValue(1)),
  createdAt: v.string(),
  /** what made the generation (optional: records written before it was kept stay valid) */
  command: v.optional(v.string()),
  packages: PackageListSchema,
  /** unowned files this generation's transaction took over (--overwrite), kept for rollback */
  overwritten: v.optional(SavedPathListSchema),
  /**
   * generations layout: the transaction that committed it built its tree, every regular file a
   * hard link of its store object (absent: not known to be; SPEC.md §Check, *Kept entries*)
   */
  hardLinked: v.optional(v.literal(true)),
});

export type PrefixRecord = v.InferOutput<typeof PrefixRecordSchema>;
export type CurrentRecord = v.InferOutput<typeof CurrentRecordSchema>;
export type GenerationRecord = v.InferOutput<typeof GenerationRecordSchema>;

export async function readPrefixRecord(p: PrefixPaths): Promise<PrefixRecord | undefined> {
  return readJsonAs(p.prefixFile, PrefixRecordSchema);
}

/** Find which layout manages `dir`, if any. */
export async function detectPrefix(
  dir: string,
): Promise<{ paths: PrefixPaths; record: PrefixRecord } | undefined> {
  for (const layout of ['inplace', 'generations'] as const) {
    const paths = prefixPaths(dir, layout);
    const record = await readPrefixRecord(paths);
    if (record) return { paths, record };
    await refuseOrphanedHistory(paths);
  }
  return undefined;
}

/**
 * A state directory that holds history (a current pointer, a journal, generation records or
 * trees) but no prefix.json has lost that file: treating it as a new prefix would write over, or
 * (on a failed first transaction) remove, that history. No error path ever deletes history.
 */
async function refuseOrphanedHistory(p: PrefixPaths): Promise<void> {
  // Looked at all at once (reads only): a new prefix is looked for three times on its way to its
  // first transaction, each time in both layouts.
  const [records, trees, current, journal] = await allSettledInOrder([
    readdirOrEmpty(p.generations),
    readdirOrEmpty(p.trees),
    pathExists(p.current),
    pathExists(p.journal),
  ]);
  const hasRecords = records.some((n) => n.endsWith('.json'));
  const hasTrees = trees.some((n) => !n.startsWith(TEMP_PREFIX));
  if (hasRecords || hasTrees || current || journal) {
    throw new PstoreError(
      'EPSTORE_INTEGRITY',
      `${p.prefixFile} is missing, but ${p.meta} holds the history of a prefix; restore prefix.json (pstore will not start over and lose it)`,
      {
        subject: p.prefixFile,
        data: { reason: 'missing' },
      },
    );
  }
}

export async function readCurrent(p: PrefixPaths): Promise<CurrentRecord> {
  return (
    (await readJsonAs(p.current, CurrentRecordSchema)) ?? {
      formatVersion: 1,
      generation: 0,
      highest: 0,
    }
  );
}

const EMPTY_GENERATION: GenerationRecord = {
  formatVersion: 1,
  generation: 0,
  createdAt: '',
  packages: [],
};

/** Generation N's record; a record that names another number is damaged (it was moved or copied). */
export async function readGeneration(
  p: PrefixPaths,
  n: number,
): Promise<GenerationRecord | undefined> {
  if (n === 0) return EMPTY_GENERATION;
  const file = generationFile(p, n);
  const g = await readJsonAs(file, GenerationRecordSchema);
  if (g && g.generation !== n)
    throw damaged(file, `it records generation ${g.generation}, not ${n}`);
  return g;
}

/**
 * The current generation's record. Generation N ≥ 1 is current only once its record is written
 * (commit order), so its absence is damage, not "empty".
 */
export async function readCurrentGeneration(
  p: PrefixPaths,
  cur: CurrentRecord,
): Promise<GenerationRecord> {
  const g = await readGeneration(p, cur.generation);
  if (!g) {
    throw new PstoreError(
      'EPSTORE_INTEGRITY',
      `${p.current} names generation ${cur.generation}, whose record ${generationFile(p, cur.generation)} is missing`,
      {
        subject: generationFile(p, cur.generation),
        data: { reason: 'missing', generation: cur.generation },
      },
    );
  }
  return g;
}

export async function listGenerationNumbers(p: PrefixPaths): Promise<number[]> {
  const names = await readdirOrEmpty(p.generations);
  return names
    .filter((n) => /^\d+\.json$/.test(n))
    .map((n) => Number(n.slice(0, -5)))
    .sort((a, b) => a - b);
}

export async function listGenerations(p: PrefixPaths): Promise<GenerationRecord[]> {
  const out: GenerationRecord[] = [];
  for (const n of await listGenerationNumbers(p)) {
    const g = await readGeneration(p, n);
    if (g) out.push(g);
  }
  return out;
}
