// The layer rule of lib/ (SPEC.md §Architecture), checked by `npm run lint`. Each folder may import
// only from the folders before it; gc/ and transfer/ share a rank and may not import each other.
// lib/index.ts is the public entry: it may import any layer, and no layer imports it.

const LAYERS = [['core'], ['fs'], ['store'], ['ingest'], ['prefix'], ['txn'], ['gc', 'transfer'], ['api']];

const folder = (names) => `^lib/(${names.join('|')})/`;

const layerRules = LAYERS.flatMap((rank, i) => {
  const later = LAYERS.slice(i + 1).flat();
  const rules = [];
  if (later.length) {
    rules.push({
      name: `layer-${rank.join('-')}`,
      comment: `lib/${rank.join('/, lib/')}/ may import only from earlier layers (${LAYERS.slice(0, i).flat().join(' < ') || 'none'}), not from ${later.join(', ')}`,
      severity: 'error',
      from: { path: folder(rank) },
      to: { path: folder(later) },
    });
  }
  for (const name of rank) {
    const peers = rank.filter((p) => p !== name);
    if (peers.length) {
      rules.push({
        name: `layer-${name}-peers`,
        comment: `lib/${name}/ may not import its peer layer ${peers.join(', ')}`,
        severity: 'error',
        from: { path: folder([name]) },
        to: { path: folder(peers) },
      });
    }
  }
  return rules;
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'layer-known',
      comment: 'every module of lib/ lives in a layer folder (or is lib/index.ts, the public entry)',
      severity: 'error',
      from: { path: '^lib/', pathNot: [`${folder(LAYERS.flat())}`, '^lib/index\\.ts$'] },
      to: {},
    },
    {
      name: 'no-public-entry-inside',
      comment: 'lib/index.ts is the public entry; no module of lib/ imports it',
      severity: 'error',
      from: { path: '^lib/.+/' },
      to: { path: '^lib/index\\.ts$' },
    },
    {
      name: 'cli-through-public-entry',
      comment: 'the CLI is a thin layer over the public API: it imports lib/index.ts only',
      severity: 'error',
      from: { path: '^cli/' },
      to: { path: '^lib/.+/' },
    },
    {
      name: 'lib-not-cli-or-test',
      comment: 'the library never imports the CLI, the tests, the bench or the examples',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^(cli|test|bench|examples)/' },
    },
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
