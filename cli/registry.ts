// Every command, loaded on first use (a command's module pulls in only what it needs), and the
// aliases users of dpkg, pacman, apt and npm type first (aliases.ts).

import type { Command } from './command.js';

export const COMMANDS: Record<string, () => Promise<Command>> = {
  add: async () => (await import('./commands/add.js')).add,
  ls: async () => (await import('./commands/ls.js')).ls,
  info: async () => (await import('./commands/info.js')).info,
  verify: async () => (await import('./commands/verify.js')).verify,
  gc: async () => (await import('./commands/gc.js')).gc,
  activate: async () => (await import('./commands/activate.js')).activate,
  deactivate: async () => (await import('./commands/deactivate.js')).deactivate,
  rollback: async () => (await import('./commands/rollback.js')).rollback,
  status: async () => (await import('./commands/status.js')).status,
  generations: async () => (await import('./commands/generations.js')).generations,
  recover: async () => (await import('./commands/recover.js')).recover,
  prune: async () => (await import('./commands/prune.js')).prune,
  hash: async () => (await import('./commands/hash.js')).hash,
  lock: async () => (await import('./commands/lock.js')).lock,
  sync: async () => (await import('./commands/sync.js')).sync,
  export: async () => (await import('./commands/export.js')).exportCmd,
  import: async () => (await import('./commands/import.js')).importCmd,
  completion: async () => (await import('./commands/completion.js')).completion,
  owner: async () => (await import('./commands/owner.js')).owner,
  diff: async () => (await import('./commands/diff.js')).diff,
  du: async () => (await import('./commands/du.js')).du,
  push: async () => (await import('./commands/push.js')).push,
  pull: async () => (await import('./commands/pull.js')).pull,
};

export { ALIASES } from './aliases.js';
