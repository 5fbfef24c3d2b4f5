// Node's own floor for hard-linking a tree (issue 9): a synchronous mkdirSync/linkSync loop over a
// precomputed list, directories first, nothing else (no plan, no index, no journal, no flush, no
// checks). It is a yardstick beside `cp -al`, not a pstore target: what pstore adds to it is the
// price of its safety rules, and what it costs above `cp -al` is Node's start-up and its loop.
//
//   node link-floor.mjs list TREE LIST    write TREE's directories and files to LIST (untimed)
//   node link-floor.mjs link TREE LIST DEST   make DEST as hard links of TREE from LIST (timed)
// Plain JavaScript, so that timing it pays Node's start-up and no TypeScript loader.

import fs from 'node:fs';
import path from 'node:path';

/** Every directory (parents first) and every non-directory under `root`, relative to it. */
function walk(root) {
  const dirs = [];
  const files = [];
  const visit = (rel) => {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        dirs.push(child);
        visit(child);
      } else files.push(child);
    }
  };
  visit('');
  return { dirs, files };
}

const [mode, tree, list, dest] = process.argv.slice(2);
if (mode === 'list') {
  fs.writeFileSync(list, JSON.stringify(walk(tree)));
} else if (mode === 'link') {
  const { dirs, files } = JSON.parse(fs.readFileSync(list, 'utf8'));
  fs.mkdirSync(dest);
  for (const d of dirs) fs.mkdirSync(`${dest}/${d}`);
  for (const f of files) fs.linkSync(`${tree}/${f}`, `${dest}/${f}`);
} else {
  process.stderr.write('usage: link-floor.mjs list TREE LIST | link TREE LIST DEST\n');
  process.exit(2);
}
