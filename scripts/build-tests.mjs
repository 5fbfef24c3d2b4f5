// Compile lib/, cli/ and test/ once into .test-build/ (esbuild, per file, no bundling: the layout
// and the relative imports stay as they are) so that `npm test` runs every test file as plain
// JavaScript instead of starting the tsx loader and compiling TypeScript in each of ~75 workers.
// Type checking stays with `npm run lint` (tsc -p tsconfig.lint.json).

import { build } from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, '.test-build');

/** The .ts sources below `dir` (declaration files excluded). */
function sources(dir) {
  return readdirSync(path.join(root, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => path.join(e.parentPath ?? e.path, e.name));
}

rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: ['lib', 'cli', 'test', 'bench/_lib'].flatMap(sources),
  outdir,
  outbase: root,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'inline',
  logLevel: 'warning',
});
