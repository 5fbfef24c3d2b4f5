// `npm test` starts with this: `npm run build` unless dist/ is newer than everything it is built
// from. `npm ci` has just built it (the prepare script), so a clean clone's `npm ci && npm run lint
// && npm test` compiles lib/ and cli/ once, not twice. dist/cli/node-version is the build's last
// write (the Node that built it); a checkout or an edit makes a source newer than it, and another
// Node (whose V8 would reject the CLI's code caches) rebuilds too.

import { execSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
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

const built = path.join(root, 'dist/cli/node-version');
const fresh =
  existsSync(built) &&
  Math.max(...INPUTS.map(newest)) < statSync(built).mtimeMs &&
  // the CLI's code caches are for the V8 of the Node that built them (SPEC.md §Start-up cost)
  readFileSync(built, 'utf8').trim() === process.version;
if (fresh) console.log('dist/ is newer than lib/, cli/ and the build settings: not rebuilt');
else execSync('npm run build', { cwd: root, stdio: 'inherit' });
