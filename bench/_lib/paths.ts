// Where the benchmarks find the project, its built CLI, the shared corpus, and their scratch space.
// Everything they generate lives under .bench-work/ (gitignored), so re-runs reuse generated trees.

import { existsSync } from 'node:fs';
import path from 'node:path';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');
export const WORK_DIR = path.join(REPO_ROOT, '.bench-work');
export const CLI_PATH = path.join(REPO_ROOT, 'dist', 'cli', 'pstore.cjs'); // the `pstore` command
export const DEFAULT_CORPUS = path.resolve(REPO_ROOT, '..', 'shared', 'corpus');

/** Paths shown relative to the repo when they are inside it or beside it (../shared/...). */
export function shortPath(p: string): string {
  const rel = path.relative(REPO_ROOT, p);
  if (rel === '') return '.';
  return path.isAbsolute(rel) || rel.split(path.sep).filter((s) => s === '..').length > 1 ? p : rel;
}

export function requireBuiltCli(): void {
  if (!existsSync(CLI_PATH)) {
    throw new Error(
      `${shortPath(CLI_PATH)} not found: build first (npm run build), or run the benchmarks with npm run bench`,
    );
  }
}

/** The corpus's real .deb packages, or undefined (with the reason for the table) when absent. */
export const CORPUS_DEBS = path.join(DEFAULT_CORPUS, 'debs');
export const corpusMissing = existsSync(CORPUS_DEBS)
  ? undefined
  : `no corpus at ${shortPath(CORPUS_DEBS)}`;
