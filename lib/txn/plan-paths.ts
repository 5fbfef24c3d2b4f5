// The paths a plan creates, replaces or removes, by what it does to them, for the checks made
// before a transaction changes anything (txn/preflight.ts).

import type { Plan } from './plan.js';

export interface TouchedPaths {
  /** made where nothing of that type is: directories, files, symlinks, marker units and their files */
  created: string[];
  /** replaced or removed whole, with whatever lies below (files, obstacles, marker units) */
  replaced: string[];
  /** directories made or removed when empty: harmless above anything */
  dirs: string[];
}

export function touchedPaths(plan: Plan): TouchedPaths {
  const unitFiles = plan.placeMarkers.flatMap((u) => u.files.map((f) => f.path));
  return {
    created: [...plan.place.map((p) => p.file.path), ...unitFiles],
    replaced: [
      ...plan.place.map((p) => p.file.path),
      ...plan.remove,
      ...plan.obstacles,
      ...plan.removeMarkers,
      ...plan.placeMarkers.map((u) => u.path),
    ],
    dirs: [...plan.mkdirs, ...plan.rmdirs],
  };
}

/**
 * Every path the plan makes (files, symlinks, marker units' files, directories), for the path-room
 * check: one pass, no array of them all (100k paths at 100k files).
 */
export function* createdPaths(plan: Plan): Generator<string> {
  for (const p of plan.place) yield p.file.path;
  for (const u of plan.placeMarkers) for (const f of u.files) yield f.path;
  yield* plan.mkdirs;
}
