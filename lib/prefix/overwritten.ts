// What a transaction run with `--overwrite GLOB` took over (SPEC.md §Overwrite): for every unowned
// file or symlink a package file replaced, its bytes as a store object (a file) or its target (a
// symlink), and its permission bits, so that rolling back puts it back exactly. The journal and
// the generation record carry the same list; gc keeps the objects while a record names them.

import * as v from 'valibot';

const relPath = v.pipe(v.string(), v.minLength(1));

export const SavedPathSchema = v.variant('type', [
  v.object({
    path: relPath,
    type: v.literal('file'),
    /** permission bits (e.g. 0o644), restored with chmod */
    mode: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(0o7777)),
    /** the store object's exec bit (any x bit in mode) */
    exec: v.boolean(),
    integrity: v.pipe(v.string(), v.startsWith('sha512-')),
  }),
  v.object({
    path: relPath,
    type: v.literal('symlink'),
    target: v.pipe(v.string(), v.minLength(1)),
  }),
]);

export const SavedPathListSchema = v.array(SavedPathSchema);

export type SavedPath = v.InferOutput<typeof SavedPathSchema>;
