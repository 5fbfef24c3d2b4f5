// The merged Debian workload of issue 9: the corpus's .debs unpacked into one tree (dpkg-deb -x
// each), else a generated 7.5k-file tree of the same size when the corpus is absent. Used by the
// ingest rows (add beside ostree commit) and the activation rows (beside cp -al, ostree checkout).

import { CORPUS_DEBS, corpusMissing } from './paths.js';

export interface MergedDebian {
  /** the source directory, for double quotes in a step (`"${src}"`) */
  src: string;
  /** what the table calls it */
  what: string;
  /** untimed steps that make `src` (absent when it is the generated $TREE) */
  setup: string[];
  /** the generated tree's size when the corpus is absent */
  tree?: number;
}

export const mergedDebian: MergedDebian = corpusMissing
  ? { tree: 7500, src: '$TREE', setup: [], what: 'a generated 7500-file tree (no corpus)' }
  : {
      setup: [`for d in "${CORPUS_DEBS}"/*.deb; do dpkg-deb -x "$d" "$W/debian"; done`],
      src: '$W/debian',
      what: 'the merged Debian corpus',
    };
