// `npm test` starts with this: `npm run build` unless dist/ is newer than everything it is built
// from. `npm ci` has just built it (the prepare script), so a clean clone's `npm ci && npm run lint
// && npm test` compiles lib/ and cli/ once, not twice. dist/cli/cli.cjs.cache is the build's last write
// (the code cache of the CLI's bundle); a checkout or an edit makes a source newer than it.

import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const INPUTS = [
  'lib',
  'cli',
  'tsconfig.json',
  'package.json',
  'package-lock.json',
  'scripts/bundle-cli.mjs',
  'scripts/train-code-cache.cjs',
];

/** The newest modification time among the files at or below `rel`. */
function newest(rel) {
  const abs = path.join(root, rel);
  const st = statSync(abs);
  if (!st.isDirectory()) return st.mtimeMs;
  return readdirSync(abs, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .reduce((m, e) => Math.max(m, statSync(path.join(e.parentPath, e.name)).mtimeMs), st.mtimeMs);
}

const built = path.join(root, 'dist/cli/cli.cjs.cache');
const fresh = existsSync(built) && Math.max(...INPUTS.map(newest)) < statSync(built).mtimeMs;
if (fresh) console.log('dist/ is newer than lib/, cli/ and the build settings: not rebuilt');
else execSync('npm run build', { cwd: root, stdio: 'inherit' });
