// The command aliases users of dpkg, pacman, apt and npm type first: one table for every entry
// (main.ts, and ask.ts with the writers' own), and the names of the writers a waiting writer's
// entry runs (bin.cjs routes a command line naming one of them to it).

export const ALIASES: Record<string, string> = {
  install: 'activate',
  remove: 'deactivate',
  uninstall: 'deactivate',
  list: 'ls',
  stats: 'du',
};

/** The commands another process may run for this one (SPEC.md §Group commit). */
export const SERVED_COMMANDS = ['activate', 'deactivate'];
