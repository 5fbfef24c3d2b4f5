// The motivating build (issue 9): 200 packages of about 100k files in all, each added and activated
// by its own `make -j16` job into one prefix, beside the same Makefile copying each with `cp -a`
// (what a build without pstore does, racing on shared directories). The report prints each
// transaction's time under the lock against the prefix size (bench/make-j16/report.ts).

import path from 'node:path';
import { REPO_ROOT, WORK_DIR } from './_lib/paths.js';
import type { Scenario } from './scenario.js';

const dir = path.join(REPO_ROOT, 'bench', 'make-j16');
const pkgs = path.join(WORK_DIR, 'trees', 'make-j16');
const tsx = `node --import=tsx`;
const make = (mode: string) =>
  `make -j16 -s -C "$W" -f "${dir}/Makefile" MODE=${mode} PSTORE="$PSTORE"`;

export const scenarios: Scenario[] = [
  {
    id: 'make-j16',
    target: 'make -j16: 200 packages (100k files) added + activated ≤ 2× make -j16 of cp -a',
    limit: 2,
    slow: true,
    needs: ['make'],
    setup: [`${tsx} "${dir}/packages.ts" "${pkgs}"`, `ln -s "${pkgs}" "$W/pkgs"`],
    reset: [
      'chmod -R u+w "$W/store" 2>/dev/null; rm -rf "$W/store" "$W/prefix" "$W/cp-prefix" "$W/stamps"',
      // logs/ stays for the report: each pstore run rewrites every package's logs.
      // The shared directories exist up front: two `cp -a` making one at once fail (EEXIST)
      'mkdir -p "$W/stamps" "$W/logs" "$W/cp-prefix/usr/lib/python3/dist-packages"',
    ],
    subject: make('pstore'),
    peer: { name: 'make -j16 of cp -a', cmd: make('cp') },
    report: `${tsx} "${dir}/report.ts" "$W"`,
  },
];
