// The journal (SPEC.md §Journal format): one file, <state>/journal.json, written atomically and
// fsynced before a transaction touches the prefix, removed (and the removal fsynced) after commit.
// It names both package sets, so recovery can recompute the plan: plans are pure functions of them.
// Its one reader checks the schema: a damaged journal is EPSTORE_INTEGRITY naming it, never
// "no transaction" (that would silently drop an interrupted one).

import { promises as fsp } from 'node:fs';
import * as v from 'valibot';
import { errnoCode } from '../core/errors.js';
import { randomHex } from '../core/random.js';
import { fsyncDir } from '../fs/atomic.js';
import { readJsonAs } from '../fs/json-file.js';
import type { PrefixPaths } from '../prefix/layout.js';
import { PackageListSchema } from '../core/package-ref.js';
import { SavedPathListSchema } from '../prefix/overwritten.js';
import { GenerationNumberSchema, LayoutSchema, writeJson } from '../prefix/state.js';

export type TxnKind = 'activate' | 'deactivate' | 'rollback' | 'sync';

const JournalSchema = v.object({
  formatVersion: v.literal(1),
  // the txid names temp and trash files in the prefix: nothing but its own 12 hex digits passes
  txid: v.pipe(v.string(), v.regex(/^[0-9a-f]{12}$/)),
  kind: v.picklist(['activate', 'deactivate', 'rollback', 'sync']),
  layout: LayoutSchema,
  link: v.picklist(['auto', 'hardlink', 'reflink', 'copy']),
  startedAt: v.string(),
  /** what made this transaction (TxnOptions.command), copied into the generation record */
  command: v.optional(v.string()),
  from: v.object({ generation: GenerationNumberSchema, packages: PackageListSchema }),
  /**
   * newGeneration: false when the target is an existing generation (rollback); only such a target
   * may be generation 0 (an inplace prefix before its first transaction, `rollback --to 0`)
   */
  to: v.pipe(
    v.object({
      generation: GenerationNumberSchema,
      packages: PackageListSchema,
      newGeneration: v.boolean(),
    }),
    v.check((to) => to.generation >= 1 || !to.newGeneration, 'a new generation is numbered from 1'),
  ),
  /** unowned files this transaction takes over (--overwrite): put back if it is reverted */
  overwritten: v.optional(SavedPathListSchema),
  /** files earlier transactions took over, put back once a rollback has removed the packages' */
  restore: v.optional(SavedPathListSchema),
});

export type Journal = v.InferOutput<typeof JournalSchema>;

export function newTxid(): string {
  return randomHex(6);
}

export async function writeJournal(p: PrefixPaths, j: Journal): Promise<void> {
  // Its fsync of <state> is also what makes a new prefix's prefix.json name durable (open.ts).
  await writeJson(p.journal, j);
}

export async function readJournal(p: PrefixPaths): Promise<Journal | undefined> {
  return readJsonAs(p.journal, JournalSchema);
}

export async function clearJournal(p: PrefixPaths): Promise<void> {
  // unlink, not fs.rm: rm lstats the path twice before it unlinks (a rollback's fixed cost)
  await fsp.unlink(p.journal).catch((err: unknown) => {
    if (errnoCode(err) !== 'ENOENT') throw err;
  });
  await fsyncDir(p.meta);
}
