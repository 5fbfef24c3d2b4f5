// Metadata markers: the paths that tell readers "this package is installed" (SPEC.md §Markers).
// They are removed first and placed last in every transaction. A marker *unit* is the top-most
// path that matches a marker glob: a whole `foo.dist-info/` directory, or a single `.pth` file.

import picomatch from 'picomatch';

/**
 * The marker globs every entry uses (its own `markers` are added): metadata that tells readers a
 * package is installed (Python dist-info, pkg-config, CMake config, conda-meta records...).
 */
export const DEFAULT_MARKER_GLOBS: readonly string[] = [
  '**/*.dist-info',
  '**/*.egg-info',
  '**/*.egg-link',
  '**/*.pth',
  '**/pkgconfig/*.pc',
  '**/cmake/**/*Config.cmake',
  '**/*-config.cmake',
  'var/lib/*/installed/*',
  'conda-meta/*.json',
];

/**
 * Markers that other markers may list (a RECORD names the package's `.pth`) but that declare
 * nothing by themselves. They are placed before, and removed after, the declaring markers
 * (`*.dist-info`, `*.egg-info`, installed-stamps, conda-meta records, an entry's own globs), so a
 * declaration is never visible while something it lists is missing.
 */
const SUPPORTING_MARKER_GLOBS: readonly string[] = [
  '**/*.egg-link',
  '**/*.pth',
  '**/pkgconfig/*.pc',
  '**/cmake/**/*Config.cmake',
  '**/*-config.cmake',
];

export type MarkerMatcher = (path: string) => boolean;

/**
 * A glob list compiled on first use, not at import: most activations never run one (a package
 * without markers is rejected by MAY_MATCH_DEFAULT below), and compiling both lists cost every
 * writer's start-up a few milliseconds.
 */
function compiledOnUse(globs: readonly string[]): MarkerMatcher {
  let match: MarkerMatcher | undefined;
  return (p) => (match ??= picomatch([...globs], { dot: true }))(p);
}

const isSupporting = compiledOnUse(SUPPORTING_MARKER_GLOBS);

/** 0 for supporting markers (placed first), 1 for declaring ones (placed last). */
export function markerRank(unit: string): 0 | 1 {
  return isSupporting(unit) ? 0 : 1;
}

const cache = new Map<string, MarkerMatcher>();

// Every default glob ends in one of these literals or starts with one of these directories, so
// most paths of a 100k-file package are rejected without running the glob regexes. One regular
// expression for them all, one call per path: measured (callgrind, 11k paths, cold) below a list
// of literals tested in turn, which costs a call per literal (this runs once per path of every
// changed manifest, mostly before V8 optimizes it).
const DEFAULT_SUFFIXES = [
  '.dist-info',
  '.egg-info',
  '.egg-link',
  '.pth',
  '.pc',
  'Config.cmake',
  '-config.cmake',
];
const DEFAULT_STARTS = ['var/lib/', 'conda-meta/'];
const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const MAY_MATCH_DEFAULT = new RegExp(
  `(?:${DEFAULT_SUFFIXES.map(literal).join('|')})$|^(?:${DEFAULT_STARTS.map(literal).join('|')})`,
);
const defaultGlobs = compiledOnUse(DEFAULT_MARKER_GLOBS);
const matchesDefault: MarkerMatcher = (p) => MAY_MATCH_DEFAULT.test(p) && defaultGlobs(p);

/** A matcher for the default globs plus an entry's own; matchers are shared between entries. */
export function markerMatcher(extra: readonly string[]): MarkerMatcher {
  if (extra.length === 0) return matchesDefault;
  const key = extra.join('\0');
  let m = cache.get(key);
  if (!m) {
    const own = picomatch([...extra], { dot: true });
    m = (p) => matchesDefault(p) || own(p);
    cache.set(key, m);
  }
  return m;
}

/**
 * The marker unit of every path of one manifest: the top-most ancestor-or-self matching a glob.
 * `paths` must list every ancestor of each path before it (a manifest does: §Manifest). Then a
 * path's unit depends on the path and the globs alone, so several manifests may share `units`.
 */
export function markerUnits(
  paths: readonly string[],
  isMarker: MarkerMatcher,
  /** another manifest's units, to add these to (a path's unit is the same in every manifest) */
  units = new Map<string, string>(),
): Map<string, string> {
  for (const p of paths) {
    const slash = p.lastIndexOf('/');
    const parentUnit = slash === -1 ? undefined : units.get(p.slice(0, slash));
    const unit = parentUnit ?? (isMarker(p) ? p : undefined);
    if (unit !== undefined) units.set(p, unit);
  }
  return units;
}
