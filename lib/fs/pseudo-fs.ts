// Kernel pseudo filesystems (proc, sysfs, cgroup, ...) hold no files pstore could manage, and some
// calls misbehave there: Node's recursive mkdir under /proc/self loops forever. So a prefix (or a
// store) on one is refused before anything is created, by the filesystem type of the nearest
// existing ancestor (statfs(2) f_type magic numbers, linux/magic.h).

import { statfsSync } from 'node:fs';
import path from 'node:path';
import { PstoreError } from '../core/errors.js';

const PSEUDO_FILESYSTEMS = new Map<number, string>([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x1cd1, 'devpts'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x6165676c, 'pstore'],
  [0xcafe4a11, 'bpf'],
  [0x62656570, 'configfs'],
  [0x65735543, 'fusectl'],
  [0x42494e4d, 'binfmt_misc'],
  [0xde5e81e4, 'efivarfs'],
  [0xf97cff8c, 'selinuxfs'],
  [0x19800202, 'mqueue'],
  [0x6e736673, 'nsfs'],
]);

/** The pseudo filesystem `target` (or its nearest existing ancestor) lies on, if any. */
async function pseudoFilesystemOf(target: string): Promise<string | undefined> {
  let dir = path.resolve(target);
  for (;;) {
    let st: { type: number } | undefined;
    try {
      st = statfsSync(dir);
    } catch {
      st = undefined;
    }
    if (st) return PSEUDO_FILESYSTEMS.get(st.type);
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** EPSTORE_UNSAFE_PATH (exit 7) naming `target` when it lies on a pseudo filesystem. */
export async function refusePseudoFilesystem(target: string, what: string): Promise<void> {
  const fs = await pseudoFilesystemOf(target);
  if (fs === undefined) return;
  throw new PstoreError(
    'EPSTORE_UNSAFE_PATH',
    `${target} is on a ${fs} pseudo filesystem, which cannot hold a ${what}`,
    { subject: target, data: { filesystem: fs } },
  );
}
