// The real-package corpus (../shared/corpus beside the project: real Debian .debs of the SageMath
// reports). It is present in CI and on the project's machines but not on a user's: tests that need
// it skip with a clear message when it (or a tool it needs) is absent.
//
//   const why = corpusSkipReason(['dpkg-deb', 'make', 'python3']);
//   if (why) test.skip(`... (${why})`, () => {}); else test('...', async (t) => { ... });

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { REPO } from './cli.js';

/** `$PSTORE_CORPUS`, else `../shared/corpus` beside the repository. */
export const CORPUS = process.env.PSTORE_CORPUS
  ? path.resolve(process.env.PSTORE_CORPUS)
  : path.resolve(REPO, '..', 'shared', 'corpus');
export const CORPUS_DEBS = path.join(CORPUS, 'debs');

export function hasCorpus(): boolean {
  return existsSync(CORPUS_DEBS);
}

function hasTool(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v "$1" >/dev/null 2>&1`, 'sh', tool]).status === 0;
}

/** Why a corpus test cannot run here (no corpus, or one of `tools` missing), or undefined. */
export function corpusSkipReason(tools: readonly string[] = []): string | undefined {
  if (!hasCorpus())
    return `no corpus at ${CORPUS}; it lives in ../shared/corpus beside the project (or set PSTORE_CORPUS)`;
  const missing = tools.filter((tool) => !hasTool(tool));
  if (missing.length) return `${missing.join(', ')} not installed`;
  return undefined;
}

/** The .deb of a Debian package name in the corpus (`python3-pip` → debs/python3-pip_23.0.1+dfsg-1_all.deb). */
export function findDeb(pkg: string): string {
  const hit = readdirSync(CORPUS_DEBS)
    .filter((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'))
    .sort()[0];
  if (!hit) throw new Error(`no .deb for ${pkg} in ${CORPUS_DEBS}`);
  return path.join(CORPUS_DEBS, hit);
}

/** One control field of a .deb (`Version`, `Package`, `Depends`). */
export function debField(deb: string, field: string): string {
  return execFileSync('dpkg-deb', ['-f', deb, field], { encoding: 'utf8' }).trim();
}

/** Stage a .deb's install tree under `dir` (a DESTDIR install, rooted at the prefix root). */
export function extractDeb(deb: string, dir: string): string {
  execFileSync('dpkg-deb', ['-x', deb, dir]);
  return dir;
}
