// What issue 10 asks the documents to state, checked against the files that ship: the README's
// Install section (the published name, what pstore needs, how to install from a clone and as a
// dependency) and the no-dependency-model statement in README and SPEC.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { REPO } from '../_helpers/cli.js';

const read = (file: string): Promise<string> => readFile(path.join(REPO, file), 'utf8');

/** The text of a `## TITLE` section, up to the next `## `. */
function section(markdown: string, title: string): string {
  const start = markdown.indexOf(`\n## ${title}\n`);
  if (start < 0) return '';
  const end = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, end < 0 ? undefined : end);
}

test('README: an Install section with the published name, the requirements and both ways to install', async (t) => {
  const pkg = JSON.parse(await read('package.json')) as {
    name: string;
    bin: Record<string, string>;
  };
  const install = section(await read('README.md'), 'Install');
  t.not(install, '', 'a "## Install" section');
  t.not(pkg.name, 'pstore', 'not the registry name an unrelated project owns');
  t.true(
    install.includes(`npm install ${pkg.name}`),
    'installed as a dependency under the published name',
  );
  t.regex(install, /npm install -g \./, 'from a clone');
  t.regex(install, /npm pack/);
  t.regex(install, /Node\.js ≥ 20\.19/);
  t.regex(install, /Linux/);
  t.deepEqual(Object.keys(pkg.bin), ['pstore'], 'the command stays pstore');
});

test('README and SPEC say plainly that pstore has no dependency model', async (t) => {
  for (const file of ['README.md', 'SPEC.md']) {
    const text = (await read(file)).replace(/\s+/g, ' ');
    t.true(/no dependency model/i.test(text), `${file} says "no dependency model"`);
    t.true(
      /resolving dependencies (belongs to the installer|is the installer's job)/i.test(text),
      `${file} says whose job resolving dependencies is`,
    );
  }
});
