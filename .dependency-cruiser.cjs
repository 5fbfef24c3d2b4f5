// The layer rule of lib/ (SPEC.md §Architecture), checked by `npm run lint`. Each folder may import
// only from the folders before it; gc/ and transfer/ share a rank and may not import each other.
// lib/index.ts is the public entry: it may import any layer, and no layer imports it. lib/errors.ts
// is its light twin (the error vocabulary alone), so the CLI starts without loading the rest.

const LAYERS = [
  ['core'],
  ['fs'],
  ['store'],
  ['ingest'],
  ['prefix'],
  ['txn'],
  ['gc', 'transfer'],
  ['api'],
];

const folder = (names) => `^lib/(${names.join('|')})/`;

/** An error when a module whose path matches `from` imports one matching `to` (regular expressions). */
const forbid = (name, comment, from, to) => ({
  name,
  comment,
  severity: 'error',
  from: { path: from },
  to: { path: to },
});

const layerRules = LAYERS.flatMap((rank, i) => {
  const later = LAYERS.slice(i + 1).flat();
  const below = LAYERS.slice(0, i).flat().join(' < ') || 'none';
  const rules = later.length
    ? [
        forbid(
          `layer-${rank.join('-')}`,
          `lib/${rank.join('/, lib/')}/ may import only from earlier layers (${below}), not from ${later.join(', ')}`,
          folder(rank),
          folder(later),
        ),
      ]
    : [];
  for (const name of rank) {
    const peers = rank.filter((p) => p !== name);
    if (peers.length)
      rules.push(
        forbid(
          `layer-${name}-peers`,
          `lib/${name}/ may not import its peer layer ${peers.join(', ')}`,
          folder([name]),
          folder(peers),
        ),
      );
  }
  return rules;
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'layer-known',
      comment:
        'every module of lib/ lives in a layer folder (or is lib/index.ts, the public entry)',
      severity: 'error',
      from: { path: '^lib/', pathNot: [`${folder(LAYERS.flat())}`, '^lib/(index|errors)\\.ts$'] },
      to: {},
    },
    forbid(
      'no-public-entry-inside',
      'lib/index.ts is the public entry; no module of lib/ imports it',
      '^lib/.+/',
      '^lib/index\\.ts$',
    ),
    forbid(
      'cli-through-public-entry',
      'the CLI is a thin layer over the public API: it imports lib/index.ts only',
      '^cli/',
      '^lib/.+/',
    ),
    forbid(
      'lib-not-cli-or-test',
      'the library never imports the CLI, the tests, the bench or the examples',
      '^lib/',
      '^(cli|test|bench|examples)/',
    ),
    {
      name: 'no-folder-cycle',
      comment: 'no import cycle between folders',
      severity: 'error',
      scope: 'folder',
      from: { path: '^lib/' },
      to: { circular: true },
    },
    {
      name: 'no-module-cycle',
      comment: 'no import cycle between modules either (a type-only import counts)',
      severity: 'error',
      from: { path: '^lib/' },
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'every relative import resolves to a file',
      severity: 'error',
      from: { path: '^lib/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    // type-only imports count: a layer may not even name a later layer's types
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
