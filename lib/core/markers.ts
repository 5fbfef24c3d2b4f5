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

const isSupporting = picomatch([...SUPPORTING_MARKER_GLOBS], { dot: true });

/** 0 for supporting markers (placed first), 1 for declaring ones (placed last). */
export function markerRank(unit: string): 0 | 1 {
  return isSupporting(unit) ? 0 : 1;
}

export type MarkerMatcher = (path: string) => boolean;

const cache = new Map<string, MarkerMatcher>();

// Every default glob ends in one of these literals or starts with one of these directories, so
// most paths of a 100k-file package are rejected without running the glob regexes.
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
const defaultGlobs = picomatch([...DEFAULT_MARKER_GLOBS], { dot: true });
const matchesDefault: MarkerMatcher = (p) =>
  (DEFAULT_SUFFIXES.some((s) => p.endsWith(s)) || DEFAULT_STARTS.some((s) => p.startsWith(s))) &&
  defaultGlobs(p);

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
 * `paths` must be sorted so that parents come before children, and list every ancestor of a path
 * (manifests do, and so does a sorted union of them, SPEC.md §Manifest): a path then lies in the
 * unit of its parent exactly when it starts with that unit's path and a slash.
 */
export function markerUnits(
  paths: readonly string[],
  isMarker: MarkerMatcher,
): Map<string, string> {
  const units = new Map<string, string>();
  const roots: string[] = []; // the units found so far, by their top-most path
  for (const p of paths) {
    const unit = roots.length <= FEW_ROOTS ? rootAbove(roots, p) : parentUnit(units, p);
    if (unit !== undefined) units.set(p, unit);
    else if (isMarker(p)) {
      units.set(p, p);
      roots.push(p);
    }
  }
  return units;
}

// Up to this many units, a path is tested against each one's path (no substring, no map lookup:
// this runs for every path of every changed manifest); past it, through its parent's entry.
const FEW_ROOTS = 8;

function rootAbove(roots: readonly string[], p: string): string | undefined {
  for (const r of roots) if (p.charCodeAt(r.length) === SLASH && p.startsWith(r)) return r;
  return undefined;
}

function parentUnit(units: ReadonlyMap<string, string>, p: string): string | undefined {
  const slash = p.lastIndexOf('/');
  return slash === -1 ? undefined : units.get(p.slice(0, slash));
}

const SLASH = 0x2f;
