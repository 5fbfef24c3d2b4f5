// The packages of the make-j16 scenario: 200 generated staged trees of about 100k files in all,
// sized like the corpus (a few big, many small: a Zipf law), each its own top-level module and
// dist-info so that all share one prefix. `node --import=tsx packages.ts DIR` writes DIR/pNNN/
// once (DIR/.complete marks a finished set; later runs reuse it).

import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateTree, prng } from '../_lib/gen-tree.js';

const COUNT = 200;
const TOTAL_FILES = 100_000;

/** Package name → its file count. Sizes are dealt out in a shuffled order, so that the order make
 *  runs them in (by name) does not put all the big ones first. */
export function packageSizes(): Map<string, number> {
  const harmonic = Array.from({ length: COUNT }, (_, i) => 1 / (i + 1));
  const scale = TOTAL_FILES / harmonic.reduce((a, b) => a + b, 0);
  const sizes = harmonic.map((h) => Math.max(20, Math.round(scale * h)));
  const rand = prng(16);
  for (let i = sizes.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [sizes[i], sizes[j]] = [sizes[j]!, sizes[i]!];
  }
  return new Map(sizes.map((n, i) => [`p${String(i + 1).padStart(3, '0')}`, n]));
}

async function main(dir: string): Promise<void> {
  if (existsSync(path.join(dir, '.complete'))) return;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [name, files] of packageSizes())
    await generateTree(files, path.join(dir, name), { pkg: name });
  writeFileSync(path.join(dir, '.complete'), '');
}

if (process.argv[1] === import.meta.filename) await main(process.argv[2]!);
